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
 */
public record DatasetRow(int index, String where, ObjectNode inputs, ObjectNode expectations,
        AgentInvoker.Invocation recorded) {

    public DatasetRow(int index, String where, ObjectNode inputs, ObjectNode expectations) {
        this(index, where, inputs, expectations, null);
    }
}
