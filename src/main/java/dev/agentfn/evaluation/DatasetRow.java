package dev.agentfn.evaluation;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * One row of a dataset.
 *
 * @param index position in the dataset, from 0
 * @param inputs the invocation request ({@code prompt} or {@code messages} and options)
 * @param where where it was read, for messages: {@code line 3} or {@code dataset.rows[2]}
 * @param expectations {@code expected_response}, {@code expected_facts}, {@code expected_tools}…; empty when absent
 * @param recorded for monitoring: what the agent already did (a production trace), so it is scored, not run;
 *     {@code null} for dataset rows
 * @param originalInputs the row's {@code inputs} as the dataset wrote them ({@code {"query": …}}), which a judge's
 *     {@code {{ inputs }}} shows as MLflow does; the same as {@code inputs} when the row was a request already
 */
public record DatasetRow(int index, String where, ObjectNode inputs, ObjectNode expectations,
        AgentInvoker.Invocation recorded, ObjectNode originalInputs) {

    public DatasetRow {
        originalInputs = originalInputs == null ? inputs : originalInputs;
    }

    public DatasetRow(int index, String where, ObjectNode inputs, ObjectNode expectations,
            AgentInvoker.Invocation recorded) {
        this(index, where, inputs, expectations, recorded, inputs);
    }

    public DatasetRow(int index, String where, ObjectNode inputs, ObjectNode expectations) {
        this(index, where, inputs, expectations, null, inputs);
    }
}
