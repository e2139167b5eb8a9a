package dev.agentfn.evaluation;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Run metrics as {@code mlflow.genai.evaluate} names them ({@code <scorer>/mean}), plus agent latency and cost
 * aggregates. MLflow averages booleans, numbers and "yes"/"no", and only for scorers whose aggregations ask for
 * it (make_judge: bool, int, float results); agentfn also averages "pass"/"fail" and free-text or category judges
 * that answered yes/no/pass/fail, so a CI gate can use them (docs/evaluation.md lists the difference).
 */
final class RunMetrics {
    static final List<String> AGENT_METRICS = List.of("agent/latency_ms/mean", "agent/latency_ms/p90",
            "agent/latency_ms/max", "agent/cost_usd/mean", "agent/cost_usd/total", "agent/error_rate");

    private RunMetrics() {
    }

    /**
     * Every metric a run with these scorers can log: a scorer's mean unless it can only answer categories that
     * have no number (yes/no, pass/fail), and the agent's aggregates. Known before the run, for threshold checks.
     */
    static java.util.SortedSet<String> possible(List<Scorer> scorers) {
        java.util.SortedSet<String> names = new java.util.TreeSet<>(AGENT_METRICS);
        for (Scorer s : scorers) {
            boolean numberless = s instanceof Judge j && j.resultType() instanceof JudgeResultType.Categories c
                    && c.values().stream().allMatch(v -> Assessment.of(s.name(), v, "").numeric() == null);
            if (!numberless) {
                names.add(s.name() + "/mean");
            }
        }
        return names;
    }

    static Map<String, Double> of(List<String> scorers, List<EvaluationRun.RowResult> rows) {
        Map<String, Double> metrics = new LinkedHashMap<>();
        for (String scorer : scorers) {
            List<Double> values = new ArrayList<>();
            rows.forEach(r -> r.assessments().stream()
                    .filter(a -> a.name().equals(scorer) && a.error() == null && a.numeric() != null)
                    .forEach(a -> values.add(a.numeric())));
            // MLflow leaves out errors and non-numeric values; a scorer with none has no mean.
            if (!values.isEmpty()) {
                metrics.put(scorer + "/mean", mean(values));
            }
        }
        List<Double> latency = new ArrayList<>();
        List<Double> cost = new ArrayList<>();
        rows.forEach(r -> {
            latency.add((double) r.latencyMs());
            cost.add(r.costUsd());
        });
        if (!rows.isEmpty()) {
            Collections.sort(latency);
            metrics.put("agent/latency_ms/mean", mean(latency));
            metrics.put("agent/latency_ms/p90", latency.get((int) Math.ceil(0.9 * latency.size()) - 1));
            metrics.put("agent/latency_ms/max", latency.get(latency.size() - 1));
            metrics.put("agent/cost_usd/mean", mean(cost));
            metrics.put("agent/cost_usd/total", cost.stream().mapToDouble(Double::doubleValue).sum());
            metrics.put("agent/error_rate", rows.stream().filter(r -> r.error() != null).count() / (double) rows.size());
        }
        return metrics;
    }

    private static double mean(List<Double> values) {
        return values.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
    }
}
