/** The queue alarms (dead letters, age of the oldest upload) and the topic they notify. */
import { Duration, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as snsSubscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import type { ResolvedLesionPipelineProps } from './props.js';

export interface AlarmResources {
  readonly deadLetterAlarm: cloudwatch.Alarm;
  readonly queueAgeAlarm: cloudwatch.Alarm;
  /** The topic both alarms notify: the `alarmTopic` prop, or the one created here. */
  readonly alarmTopic: sns.ITopic;
}

/** Creates the alarms in `scope` (ids DeadLetterQueueAlarm, QueueAgeAlarm, AlarmTopic). */
export function createAlarms(
  scope: Construct,
  props: ResolvedLesionPipelineProps,
  queues: { readonly queue: sqs.Queue; readonly deadLetterQueue: sqs.Queue },
): AlarmResources {
  const deadLetterAlarm = new cloudwatch.Alarm(scope, 'DeadLetterQueueAlarm', {
    alarmDescription: 'Uploads failed maxReceiveCount times and landed in the dead-letter queue.',
    metric: queues.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
      period: Duration.minutes(1),
      statistic: cloudwatch.Stats.MAXIMUM,
    }),
    threshold: 0,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    evaluationPeriods: 1,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
  const ageThreshold = props.queueAgeAlarmThreshold;
  const queueAgeAlarm = new cloudwatch.Alarm(scope, 'QueueAgeAlarm', {
    alarmDescription: `The oldest upload has waited more than ${ageThreshold.toHumanString()} (consumers stalled or too few).`,
    metric: queues.queue.metricApproximateAgeOfOldestMessage({
      period: Duration.minutes(1),
      statistic: cloudwatch.Stats.MAXIMUM,
    }),
    threshold: ageThreshold.toSeconds(),
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    evaluationPeriods: 3,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
  // An alarm nobody hears is no alarm: without a topic of the user's, one is created here.
  const alarmTopic = props.alarmTopic ?? createAlarmTopic(scope, props.alarmEmail);
  for (const alarm of [deadLetterAlarm, queueAgeAlarm]) {
    alarm.addAlarmAction(new cloudwatchActions.SnsAction(alarmTopic));
  }
  return { deadLetterAlarm, queueAgeAlarm, alarmTopic };
}

function createAlarmTopic(scope: Construct, email: string | undefined): sns.Topic {
  const topic = new sns.Topic(scope, 'AlarmTopic', {
    displayName: 'lesion-mtl pipeline alarms',
    enforceSSL: true,
  });
  if (email) topic.addSubscription(new snsSubscriptions.EmailSubscription(email));
  Validations.of(topic).acknowledge({
    id: 'AwsSolutions-SNS2',
    reason:
      'Alarm notifications carry alarm names and thresholds, no patient data; CloudWatch cannot publish to a topic encrypted with the AWS-managed SNS key.',
  });
  return topic;
}
