package dev.agentfn.evaluation;

import java.util.concurrent.CompletableFuture;

/** Scores one row's outcome. Never completes exceptionally: failures are assessments with an error. */
public interface Scorer {

    /** The assessment name and metric prefix ({@code <name>/mean}). */
    String name();

    /** MLflow assessment source type: {@code CODE} or {@code LLM_JUDGE}. */
    String sourceType();

    /** MLflow assessment source id: the scorer name for code, the model URI for judges. */
    String sourceId();

    CompletableFuture<Assessment> score(DatasetRow row, RowOutcome outcome);
}
