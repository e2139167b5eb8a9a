package dev.agentfn.evaluation;

import java.util.List;

/**
 * A validated evaluation, ready to run.
 *
 * @param model applied to rows that name none; {@code null}: the deployment default
 * @param key identifies "the same evaluation" across triggers: name, dataset content, scorers, engine, model
 * @param timeBudget rows not started within it are left for the next trigger; {@code null}: no limit, no resume
 * @param monitorTag for trace datasets: the trace tag marking a trace as scored by this monitor; else {@code null}
 */
public record EvaluationPlan(String name, Dataset dataset, List<Scorer> scorers, String engine, String model,
        String key, java.time.Duration timeBudget, String monitorTag) {
    public EvaluationPlan {
        scorers = List.copyOf(scorers);
    }

    public EvaluationPlan(String name, Dataset dataset, List<Scorer> scorers, String engine, String model) {
        this(name, dataset, scorers, engine, model, null, null, null);
    }

    public List<String> scorerNames() {
        return scorers.stream().map(Scorer::name).toList();
    }
}
