package dev.agentfn.evaluation;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.agentfn.mlflow.MlflowApi;
import dev.agentfn.mlflow.MlflowApi.AssessmentKind;
import dev.agentfn.mlflow.MlflowApi.NewAssessment;
import dev.agentfn.mlflow.MlflowApi.RunStatus;
import dev.agentfn.mlflow.MlflowClient;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import org.jboss.logging.Logger;

/**
 * Runs an evaluation the way {@code mlflow.genai.evaluate} records one: a run tagged
 * {@code genai_evaluate}, each row's agent trace created with {@code mlflow.sourceRun} and linked
 * to the run, one assessment per scorer on each root span, {@code <scorer>/mean} metrics.
 */
public final class EvaluationRunner {
    static final String RUN_TYPE_TAG = "mlflow.runType";
    static final String RUN_TYPE = "genai_evaluate";
    static final String SOURCE_RUN_ID = "mlflow.assessment.sourceRunId";
    static final String FAILURE_TAG = "agentfn.evaluation.failure";
    private static final int POST_RETRIES = 5;
    private static final Logger LOG = Logger.getLogger(EvaluationRunner.class);

    private final MlflowClient mlflow;
    private final AgentInvoker agent;
    private final Limiter agentCalls;

    public EvaluationRunner(MlflowClient mlflow, AgentInvoker agent, Limiter agentCalls) {
        this.mlflow = mlflow;
        this.agent = agent;
        this.agentCalls = agentCalls;
    }

    /** Creates the run and logs its params; completes when both are in MLflow. The rows then run in the background. */
    public CompletableFuture<EvaluationRun> start(String id, String experimentId, EvaluationPlan plan) {
        Map<String, String> tags = Map.of(RUN_TYPE_TAG, RUN_TYPE, "agentfn.evaluation.id", id);
        return mlflow.createRun(experimentId, plan.name(), tags).thenCompose(run -> {
            EvaluationRun state = new EvaluationRun(id, run.runId(), experimentId, plan.dataset().source(),
                    plan.dataset().rows().size(), plan.scorerNames());
            return mlflow.logBatch(run.runId(), List.of(), params(plan), Map.of()).thenApply(v -> state)
                    .whenComplete((s, err) -> {
                        if (err != null) {
                            mlflow.updateRun(run.runId(), RunStatus.FAILED, System.currentTimeMillis());
                        }
                    });
        }).thenApply(state -> {
            runRows(state, plan);
            return state;
        });
    }

    private Map<String, String> params(EvaluationPlan plan) {
        return Map.of("dataset", truncate(plan.dataset().source()),
                "model", plan.model() == null ? agent.defaultModel() : plan.model(),
                "engine", plan.engine(),
                "scorers", truncate(String.join(",", plan.scorerNames())),
                "rows", Integer.toString(plan.dataset().rows().size()));
    }

    private void runRows(EvaluationRun state, EvaluationPlan plan) {
        List<CompletableFuture<Void>> rows = new ArrayList<>();
        for (DatasetRow row : plan.dataset().rows()) {
            rows.add(row(state, plan, row));
        }
        CompletableFuture.allOf(rows.toArray(CompletableFuture[]::new))
                .thenCompose(v -> complete(state, plan))
                .exceptionally(t -> {
                    failRun(state, "finishing the run failed: " + message(t));
                    return null;
                });
    }

    private CompletableFuture<Void> row(EvaluationRun state, EvaluationPlan plan, DatasetRow row) {
        ObjectNode inputs = row.inputs().deepCopy();
        if (plan.model() != null && !inputs.has("model")) {
            inputs.put("model", plan.model());
        }
        return agentCalls.submit(() -> agent.invoke(inputs, plan.engine(), state.runId()))
                .thenCompose(inv -> score(plan, row, inv.outcome())
                        .thenCompose(assessments -> post(state, plan.scorers(), inv, assessments)
                                .thenRun(() -> state.rowDone(result(row, inv.outcome(), assessments)))))
                .exceptionally(t -> {
                    // Only a bug gets here (agent and scorers report failures as values); count the row anyway.
                    LOG.errorf(t, "evaluation %s row %d failed", state.id(), row.index());
                    state.mlflowError("row " + row.index(), message(t));
                    state.rowDone(new EvaluationRun.RowResult(row.index(), null, message(t), 0, 0, List.of()));
                    return null;
                });
    }

    private static CompletableFuture<List<Assessment>> score(EvaluationPlan plan, DatasetRow row, RowOutcome o) {
        List<CompletableFuture<Assessment>> all = plan.scorers().stream().map(s -> s.score(row, o)).toList();
        return CompletableFuture.allOf(all.toArray(CompletableFuture[]::new))
                .thenApply(v -> all.stream().map(CompletableFuture::join).toList());
    }

    private CompletableFuture<Void> post(EvaluationRun state, List<Scorer> scorers, AgentInvoker.Invocation inv,
            List<Assessment> list) {
        String traceId = inv.outcome().traceId();
        if (traceId == null) {
            state.mlflowError("trace", "a row has no trace to attach assessments to: " + inv.outcome().error());
            return CompletableFuture.completedFuture(null);
        }
        List<CompletableFuture<String>> posts = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            Assessment a = list.get(i);
            Scorer s = scorers.get(i); // assessments come in scorer order
            posts.add(createWithRetry(assessment(state, inv, a, s), 0).exceptionally(t -> {
                state.mlflowError("assessment", "posting assessment " + a.name() + " on " + traceId + " failed: "
                        + message(t));
                return null;
            }));
        }
        return CompletableFuture.allOf(posts.toArray(CompletableFuture[]::new));
    }

    /**
     * A trace whose export was not confirmed in time is spooled and redelivered later; until then
     * MLflow answers 404 for its assessments. Waits 0.5, 1, 2, 4 and 8 s for it before giving up.
     */
    private CompletableFuture<String> createWithRetry(NewAssessment a, int attempt) {
        return mlflow.createAssessment(a).handle((id, t) -> {
            if (t == null) {
                return CompletableFuture.completedFuture(id);
            }
            if (attempt >= POST_RETRIES) {
                return CompletableFuture.<String>failedFuture(t);
            }
            Executor later = CompletableFuture.delayedExecutor(500L << attempt, TimeUnit.MILLISECONDS);
            return CompletableFuture.supplyAsync(() -> null, later).thenCompose(v -> createWithRetry(a, attempt + 1));
        }).thenCompose(f -> f);
    }

    private static NewAssessment assessment(EvaluationRun state, AgentInvoker.Invocation inv, Assessment a, Scorer s) {
        Object value = a.error() == null ? a.value() : new MlflowApi.FeedbackError("SCORER_ERROR", a.error());
        return new NewAssessment(inv.outcome().traceId(), a.name(), AssessmentKind.FEEDBACK, value, s.sourceType(),
                s.sourceId(), a.rationale(), Map.of(SOURCE_RUN_ID, state.runId()), inv.rootSpanId());
    }

    private static EvaluationRun.RowResult result(DatasetRow row, RowOutcome o, List<Assessment> assessments) {
        return new EvaluationRun.RowResult(row.index(), o.traceId(), o.error(), o.latencyMs(), o.costUsd(), assessments);
    }

    /**
     * A judge none of whose calls got through (wrong model, no credentials) makes the run FAILED:
     * its metric would be missing and the run would look fine otherwise. Malformed answers do not count.
     */
    static List<String> unreachableJudges(EvaluationPlan plan, List<EvaluationRun.RowResult> rows) {
        List<String> reasons = new ArrayList<>();
        for (Scorer s : plan.scorers()) {
            if (!(s instanceof Judge) || rows.isEmpty()) {
                continue;
            }
            List<Assessment> mine = rows.stream().flatMap(r -> r.assessments().stream())
                    .filter(a -> a.name().equals(s.name())).toList();
            boolean allFailed = !mine.isEmpty() && mine.stream()
                    .allMatch(a -> a.error() != null && a.error().startsWith(Judge.CALL_FAILED));
            if (allFailed) {
                reasons.add("judge " + s.name() + " (" + s.sourceId() + "): " + mine.get(0).error());
            }
        }
        return reasons;
    }

    private CompletableFuture<Void> complete(EvaluationRun state, EvaluationPlan plan) {
        List<String> traces = state.rows().stream().map(EvaluationRun.RowResult::traceId)
                .filter(java.util.Objects::nonNull).toList();
        Map<String, Double> metrics = RunMetrics.of(state.scorers(), state.rows());
        state.metrics(metrics);
        long now = System.currentTimeMillis();
        List<MlflowApi.Metric> logged = metrics.entrySet().stream()
                .map(e -> new MlflowApi.Metric(e.getKey(), e.getValue(), now, 0)).toList();
        return mlflow.linkTracesToRun(state.runId(), traces)
                .thenCompose(v -> mlflow.logBatch(state.runId(), logged, Map.of(), Map.of()))
                .thenCompose(v -> {
                    Map<String, String> errors = state.mlflowErrors();
                    if (!errors.isEmpty()) {
                        return failRun(state, "incomplete in MLflow: " + String.join("; ", errors.values()));
                    }
                    List<String> judges = unreachableJudges(plan, state.rows());
                    if (!judges.isEmpty()) {
                        return failRun(state, "every call failed for " + String.join("; ", judges));
                    }
                    state.finish();
                    return mlflow.updateRun(state.runId(), RunStatus.FINISHED, System.currentTimeMillis());
                });
    }

    private CompletableFuture<Void> failRun(EvaluationRun state, String reason) {
        LOG.warnf("evaluation %s (run %s) failed: %s", state.id(), state.runId(), reason);
        state.fail(reason);
        return mlflow.logBatch(state.runId(), List.of(), Map.of(), Map.of(FAILURE_TAG, truncate(reason),
                        "mlflow.note.content", "Evaluation failed: " + reason))
                .handle((v, t) -> null)
                .thenCompose(v -> mlflow.updateRun(state.runId(), RunStatus.FAILED, System.currentTimeMillis()));
    }

    private static String truncate(String s) {
        return s.length() > 500 ? s.substring(0, 499) + "…" : s;
    }

    static String message(Throwable t) {
        Throwable c = t;
        while (c instanceof CompletionException && c.getCause() != null) {
            c = c.getCause();
        }
        return c.getMessage() == null ? c.getClass().getSimpleName() : c.getMessage();
    }
}
