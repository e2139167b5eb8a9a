package dev.agentfn.evaluation;

import java.util.List;

/**
 * A validated evaluation, ready to run.
 *
 * @param model applied to rows that name none; {@code null}: the deployment default
 */
public record EvaluationPlan(String name, Dataset dataset, List<Scorer> scorers, String engine, String model) {
    public EvaluationPlan {
        scorers = List.copyOf(scorers);
    }

    public List<String> scorerNames() {
        return scorers.stream().map(Scorer::name).toList();
    }
}
