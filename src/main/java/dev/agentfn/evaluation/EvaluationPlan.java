package dev.agentfn.evaluation;

import java.util.List;

/**
 * A validated evaluation, ready to run.
 *
 * @param model applied to rows that name none; {@code null}: the deployment default
 * @param key identifies "the same evaluation" across triggers: name, dataset content, scorers, engine, model
 * @param timeBudget rows not started within it are left for the next trigger; {@code null}: no limit, no resume
 * @param monitorTag for trace datasets: the trace tag marking a trace as scored by this monitor; else {@code null}
 * @param source who started it (the run's source tags)
 */
public record EvaluationPlan(String name, Dataset dataset, List<Scorer> scorers, String engine, String model,
        String key, java.time.Duration timeBudget, String monitorTag, RunSource source) {
    public EvaluationPlan {
        scorers = List.copyOf(scorers);
        source = source == null ? RunSource.API : source;
    }

    public EvaluationPlan(String name, Dataset dataset, List<Scorer> scorers, String engine, String model,
            String key, java.time.Duration timeBudget, String monitorTag) {
        this(name, dataset, scorers, engine, model, key, timeBudget, monitorTag, RunSource.API);
    }

    public EvaluationPlan(String name, Dataset dataset, List<Scorer> scorers, String engine, String model) {
        this(name, dataset, scorers, engine, model, null, null, null);
    }

    public EvaluationPlan withSource(RunSource s) {
        return new EvaluationPlan(name, dataset, scorers, engine, model, key, timeBudget, monitorTag, s);
    }

    /** The run metrics this evaluation can log, known before it runs (for CI thresholds). */
    public java.util.SortedSet<String> possibleMetrics() {
        return RunMetrics.possible(scorers);
    }

    public List<String> scorerNames() {
        return scorers.stream().map(Scorer::name).toList();
    }
}
