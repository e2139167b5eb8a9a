package dev.agentfn.evaluation;

import java.util.List;

/**
 * Rows to evaluate and a short description of where they came from (logged as the run's {@code dataset} param).
 *
 * @param origin how the run records the dataset as its input; {@code null}: derived from {@code source}
 */
public record Dataset(String source, List<DatasetRow> rows, Origin origin) {
    public Dataset {
        rows = List.copyOf(rows);
    }

    public Dataset(String source, List<DatasetRow> rows) {
        this(source, rows, null);
    }

    /**
     * The dataset as MLflow's {@code log_input} records it.
     *
     * @param sourceType MLflow's source type: {@code http}, {@code mlflow_evaluation_dataset}
     * @param sourceJson the source's {@code to_dict()} as JSON
     * @param id the MLflow evaluation dataset id, else {@code null}
     * @param digest the dataset's own digest (MLflow's), else {@code null}: computed from the rows
     */
    public record Origin(String name, String sourceType, String sourceJson, String id, String digest) {
    }
}
