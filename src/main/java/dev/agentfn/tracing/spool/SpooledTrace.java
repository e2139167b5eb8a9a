package dev.agentfn.tracing.spool;

import dev.agentfn.mlflow.entities.Trace;

/** A trace waiting in a spool (every copy of it, merged), with the handle that removes those copies once MLflow confirmed it. */
public record SpooledTrace(String handle, Trace trace) {
}
