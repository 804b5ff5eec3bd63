/** The EventBridge bus the analysis publishes to, and an example rule into a log group. */
import * as events from 'aws-cdk-lib/aws-events';
import * as eventsTargets from 'aws-cdk-lib/aws-events-targets';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { ANALYSIS_EVENT_DETAIL_TYPES, ANALYSIS_EVENT_SOURCE } from './constants.js';
import type { ResolvedLesionPipelineProps } from './props.js';

export interface EventResources {
  readonly eventBus: events.EventBus;
  /** Example rule: completion/failure events → `eventsLogGroup`. */
  readonly eventsRule: events.Rule;
  readonly eventsLogGroup: logs.LogGroup;
}

/** Creates the bus, log group and rule in `scope` (ids EventBus, AnalysisEventsLogGroup, AnalysisEventsRule). */
export function createEvents(scope: Construct, props: ResolvedLesionPipelineProps): EventResources {
  const eventBus = new events.EventBus(scope, 'EventBus', { eventBusName: props.eventBusName });
  const eventsLogGroup = new logs.LogGroup(scope, 'AnalysisEventsLogGroup', {
    logGroupName: `/aws/events/${props.eventBusName}`, // EventBridge log targets must live under /aws/events/
    retention: props.logRetention,
    removalPolicy: props.logsRemovalPolicy,
  });
  const eventsRule = new events.Rule(scope, 'AnalysisEventsRule', {
    description: 'Example consumer: every lesion analysis completion/failure event into CloudWatch Logs.',
    eventBus,
    eventPattern: { source: [ANALYSIS_EVENT_SOURCE], detailType: [...ANALYSIS_EVENT_DETAIL_TYPES] },
    targets: [new eventsTargets.CloudWatchLogGroup(eventsLogGroup)],
  });
  return { eventBus, eventsRule, eventsLogGroup };
}
