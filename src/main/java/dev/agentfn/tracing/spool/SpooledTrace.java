package dev.agentfn.tracing.spool;

import dev.agentfn.mlflow.entities.Trace;

/** A trace waiting in a spool, with the handle that removes it once MLflow confirmed it. */
public record SpooledTrace(String handle, Trace trace) {
}
