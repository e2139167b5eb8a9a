package dev.agentfn.mlflow.entities;

/** MLflow's {@code TraceInfo.state}. */
public enum TraceState { STATE_UNSPECIFIED, OK, ERROR, IN_PROGRESS }
