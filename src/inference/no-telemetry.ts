// Imported for its side effect, FIRST, by every module that imports onnxruntime-node (ESM
// evaluates a module's imports in order, so this runs before onnxruntime-node is evaluated).
//
// onnxruntime 1.29+ on Linux ships Microsoft 1DS telemetry: a persistent device id
// (~/.cache/Microsoft/DeveloperTools/.onnxruntime/deviceid, or under $XDG_CACHE_HOME), an offline
// event store beside it (onnxruntime.db) and HTTPS uploads to mobile.events.data.microsoft.com,
// unless ORT_DISABLE_TELEMETRY=1 is in the environment when the runtime initialises. A medical
// imaging pipeline running in a customer's account sends nothing to a third party: off unless
// the operator sets ORT_DISABLE_TELEMETRY explicitly (to 0) on their own machine. See
// docs/security.md.

/** Turn onnxruntime's telemetry off unless the environment says otherwise (set and non-empty). */
export function disableOrtTelemetry(env: NodeJS.ProcessEnv = process.env): void {
  if (!env.ORT_DISABLE_TELEMETRY) env.ORT_DISABLE_TELEMETRY = '1';
}

disableOrtTelemetry();
