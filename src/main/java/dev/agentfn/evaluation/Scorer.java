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

    /**
     * Whether {@code mlflow.genai.evaluate} would log {@code <name>/mean} for this scorer: code scorers yes (their
     * aggregations default to mean), make_judge judges only for bool, int and float results.
     */
    default boolean mlflowMean() {
        return true;
    }

    /** Assessment metadata this scorer puts on every assessment (make_judge: {@code guideline}, the digest). */
    default java.util.Map<String, String> metadata() {
        return java.util.Map.of();
    }
}
