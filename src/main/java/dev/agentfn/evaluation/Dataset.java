package dev.agentfn.evaluation;

import java.util.List;

/**
 * Rows to evaluate and a short description of where they came from (logged as the run's {@code dataset} param).
 */
public record Dataset(String source, List<DatasetRow> rows) {
    public Dataset {
        rows = List.copyOf(rows);
    }
}
