/** The EventBridge bus, rule and log group (cdk/pipeline/events.ts). */
import { Match } from 'aws-cdk-lib/assertions';
import type { Template } from 'aws-cdk-lib/assertions';
import { ANALYSIS_EVENT_DETAIL_TYPES, ANALYSIS_EVENT_SOURCE } from '../../cdk/lesion-pipeline.js';
import { logicalId, stackWith } from './helpers.js';

describe('LesionPipeline, compute=cpu (all other props default)', () => {
  let template: Template;
  let busId: string;

  beforeAll(() => {
    ({ template } = stackWith({ compute: 'cpu' }));
    busId = logicalId(template, 'AWS::Events::EventBus', 'PipelineEventBus');
  });

  it('EventBridge: bus lesion-analysis, rule forwarding completion/failure events to a log group', () => {
    template.hasResourceProperties('AWS::Events::EventBus', { Name: 'lesion-analysis' });
    template.hasResourceProperties('AWS::Logs::LogGroup', {
      LogGroupName: '/aws/events/lesion-analysis',
      RetentionInDays: 30,
    });
    const logGroupId = logicalId(template, 'AWS::Logs::LogGroup', 'PipelineAnalysisEventsLogGroup');
    template.hasResourceProperties('AWS::Events::Rule', {
      EventBusName: { Ref: busId },
      State: 'ENABLED',
      EventPattern: { source: [ANALYSIS_EVENT_SOURCE], 'detail-type': [...ANALYSIS_EVENT_DETAIL_TYPES] },
      Targets: [
        Match.objectLike({
          Arn: {
            'Fn::Join': [
              '',
              Match.arrayWith([
                ':logs:',
                { Ref: 'AWS::Region' },
                ':',
                { Ref: 'AWS::AccountId' },
                ':log-group:',
                { Ref: logGroupId },
              ]),
            ],
          },
        }),
      ],
    });
    expect(ANALYSIS_EVENT_DETAIL_TYPES).toEqual(['LesionAnalysisCompleted', 'LesionAnalysisFailed']);
    expect(ANALYSIS_EVENT_SOURCE).toBe('lesion-mtl');
  });
});
