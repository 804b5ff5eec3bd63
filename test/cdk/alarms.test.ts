/** The queue alarms and the topic they notify (cdk/pipeline/alarms.ts). */
import type { Template } from 'aws-cdk-lib/assertions';
import { constructWith, logicalId, resourcesOf, stackWith } from './helpers.js';

describe('LesionPipeline, compute=cpu (all other props default)', () => {
  let template: Template;
  let queueId: string;
  let dlqId: string;

  beforeAll(() => {
    ({ template } = stackWith({ compute: 'cpu' }));
    queueId = logicalId(template, 'AWS::SQS::Queue', 'PipelineQueue');
    dlqId = logicalId(template, 'AWS::SQS::Queue', 'PipelineDeadLetterQueue');
  });

  it('alarms on DLQ depth > 0 and on the age of the oldest message', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [dlqId, 'QueueName'] } }],
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: 0,
      TreatMissingData: 'notBreaching',
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateAgeOfOldestMessage',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queueId, 'QueueName'] } }],
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: 900,
    });
  });
});

describe('the default deploy (no compute prop, as `cdk deploy` with no flags)', () => {
  it('notifies a topic of its own when no alarm topic is given, with an optional e-mail subscription', () => {
    const { template } = constructWith({ compute: 'cpu', alarmEmail: 'oncall@example.org' });
    const topicId = logicalId(template, 'AWS::SNS::Topic', 'PipelineAlarmTopic');
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'oncall@example.org',
      TopicArn: { Ref: topicId },
    });
    for (const [, alarm] of resourcesOf(template, 'AWS::CloudWatch::Alarm').filter(([id]) =>
      /DeadLetterQueueAlarm|QueueAgeAlarm/.test(id),
    ))
      expect(alarm.AlarmActions).toEqual([{ Ref: topicId }]);
  });
});
