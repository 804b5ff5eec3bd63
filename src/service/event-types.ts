// The completion events' EventBridge `source` and `detail-type`s: what src/service/publish.ts
// sends and what the CDK stack's rule matches (kept free of the AWS SDK so cdk/ can import it).

export const EVENT_SOURCE = 'lesion-mtl';
export const DetailType = {
  COMPLETED: 'LesionAnalysisCompleted',
  FAILED: 'LesionAnalysisFailed',
} as const;
export type DetailType = (typeof DetailType)[keyof typeof DetailType];
