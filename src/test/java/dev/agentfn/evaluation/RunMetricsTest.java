package dev.agentfn.evaluation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RunMetricsTest {

    @Test
    void meansMapYesPassTrueToOneAndSkipErrorsAndCategories() {
        List<EvaluationRun.RowResult> rows = List.of(
                new EvaluationRun.RowResult(0, "tr-a", null, 100, 0.01, List.of(Assessment.of("j", "yes", "r"),
                        Assessment.of("c", true, "r"), Assessment.of("n", 4.0, "r"), Assessment.of("cat", "polite", "r"))),
                new EvaluationRun.RowResult(1, "tr-b", null, 300, 0.03, List.of(Assessment.of("j", "no", "r"),
                        Assessment.failed("c", "x"), Assessment.of("n", 2.0, "r"), Assessment.of("cat", "rude", "r"))),
                new EvaluationRun.RowResult(2, "tr-c", "boom", 200, 0, List.of(Assessment.of("j", "pass", "r"),
                        Assessment.of("c", false, "r"), Assessment.of("n", 3.0, "r"), Assessment.of("cat", "rude", "r"))));
        Map<String, Double> m = RunMetrics.of(List.of("j", "c", "n", "cat"), rows);
        assertEquals(2.0 / 3, m.get("j/mean"), 1e-12);
        assertEquals(0.5, m.get("c/mean"), 1e-12);
        assertEquals(3.0, m.get("n/mean"), 1e-12);
        assertFalse(m.containsKey("cat/mean"));
        assertEquals(200.0, m.get("agent/latency_ms/mean"), 1e-12);
        assertEquals(300.0, m.get("agent/latency_ms/max"), 1e-12);
        assertEquals(0.04, m.get("agent/cost_usd/total"), 1e-12);
        assertEquals(1.0 / 3, m.get("agent/error_rate"), 1e-12);
    }
}
