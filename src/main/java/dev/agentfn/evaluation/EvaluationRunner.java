package dev.agentfn.evaluation;

import dev.agentfn.Futures;
import dev.agentfn.LogText;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.agentfn.conversation.Sleeper;
import dev.agentfn.mlflow.MlflowApi;
import dev.agentfn.mlflow.MlflowApi.AssessmentKind;
import dev.agentfn.mlflow.MlflowApi.NewAssessment;
import dev.agentfn.mlflow.MlflowApi.RunStatus;
import dev.agentfn.mlflow.MlflowTracking;
import dev.agentfn.mlflow.MlflowKeys;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.jboss.logging.Logger;

/**
 * Runs an evaluation the way {@code mlflow.genai.evaluate} records one: a run tagged
 * {@code genai_evaluate}, each row's agent trace created with {@code mlflow.sourceRun} and linked
 * to the run, one assessment per scorer on each root span, {@code <scorer>/mean} metrics.
 */
public final class EvaluationRunner {
    static final String RUN_TYPE_TAG = MlflowKeys.RunTag.RUN_TYPE;
    static final String RUN_TYPE = "genai_evaluate";
    static final String SOURCE_RUN_ID = MlflowKeys.AssessmentMetadata.SOURCE_RUN_ID;
    static final String FAILURE_TAG = "agentfn.evaluation.failure";
    private static final int POST_RETRIES = 5;
    private static final Logger LOG = Logger.getLogger(EvaluationRunner.class);

    private final MlflowTracking mlflow;
    private final AgentInvoker agent;
    private final Limiter agentCalls;
    private final RunProgress progress;
    private final java.time.Duration inFlightGrace;
    private final String user;
    /** The agent version the rows run as (this deployment's), or empty: then the run names none. */
    private final java.util.function.Supplier<java.util.Optional<String>> agentVersion;
    private final dev.agentfn.mlflow.LoggedModels loggedModels;

    /** @param inFlightGrace how long rows started just before a time budget ends may still take */
    public EvaluationRunner(MlflowTracking mlflow, AgentInvoker agent, Limiter agentCalls,
            java.time.Duration inFlightGrace) {
        this(mlflow, agent, agentCalls, inFlightGrace, RunSource.defaultUser(java.util.Optional.empty()));
    }

    /** @param user the run's "Created by" ({@code mlflow.user}) */
    public EvaluationRunner(MlflowTracking mlflow, AgentInvoker agent, Limiter agentCalls,
            java.time.Duration inFlightGrace, String user) {
        this(mlflow, agent, agentCalls, inFlightGrace, user, java.util.Optional::empty);
    }

    /** @param agentVersion the MLflow logged model id of the agent under evaluation, when known */
    public EvaluationRunner(MlflowTracking mlflow, AgentInvoker agent, Limiter agentCalls,
            java.time.Duration inFlightGrace, String user,
            java.util.function.Supplier<java.util.Optional<String>> agentVersion) {
        this.agentVersion = agentVersion;
        this.loggedModels = new dev.agentfn.mlflow.LoggedModels(mlflow);
        this.user = user;
        this.mlflow = mlflow;
        this.agent = agent;
        this.agentCalls = agentCalls;
        this.progress = new RunProgress(mlflow);
        this.inFlightGrace = inFlightGrace;
    }

    /**
     * Creates the run and logs its params (or, for a plan with a time budget, continues the unfinished
     * run of the same evaluation); completes when MLflow has them. The rows then run in the background.
     */
    public CompletableFuture<EvaluationRun> start(String id, String experimentId, EvaluationPlan plan) {
        if (plan.timeBudget() == null) {
            return create(id, experimentId, plan).thenApply(state -> runRows(state, plan));
        }
        return progress.find(experimentId, plan.key()).thenCompose(previous -> {
            if (previous.isEmpty()) {
                return create(id, experimentId, plan);
            }
            return resume(id, experimentId, plan, previous.get());
        }).thenApply(state -> runRows(state, plan));
    }

    private CompletableFuture<EvaluationRun> create(String id, String experimentId, EvaluationPlan plan) {
        Map<String, String> tags = new java.util.HashMap<>(Map.of(RUN_TYPE_TAG, RUN_TYPE, "agentfn.evaluation.id", id));
        tags.putAll(plan.source().tags(user));
        tags.putAll(lineageTags(plan));
        if (plan.timeBudget() != null) {
            tags.put(RunProgress.KEY_TAG, plan.key());
            tags.put(RunProgress.LEASE_TAG, Long.toString(leaseUntil(plan)));
        }
        return mlflow.createRun(experimentId, plan.name(), tags).thenCompose(run -> {
            EvaluationRun state = new EvaluationRun(id, run.runId(), experimentId, plan.dataset().source(),
                    plan.dataset().rows().size(), plan.scorerNames());
            return mlflow.logBatch(run.runId(), List.of(), params(plan), Map.of())
                    .thenCompose(v -> logInput(run.runId(), plan))
                    .thenCompose(v -> linkAgentVersion(run.runId())).thenApply(v -> state)
                    .whenComplete((s, err) -> {
                        if (err != null) {
                            mlflow.updateRun(run.runId(), RunStatus.FAILED, System.currentTimeMillis());
                        }
                    });
        });
    }

    /**
     * Continues an unfinished run: rows it finished are taken as they are (not run or scored again);
     * traces of rows it was cut off in are deleted, and those rows run again.
     */
    private CompletableFuture<EvaluationRun> resume(String id, String experimentId, EvaluationPlan plan,
            RunProgress.Previous previous) {
        if (previous.leaseUntil() > System.currentTimeMillis()) {
            throw new EvaluationConflictException("evaluation '" + plan.name() + "' is running in another trigger "
                    + "(MLflow run " + previous.runId() + ") until " + java.time.Instant.ofEpochMilli(previous.leaseUntil()));
        }
        EvaluationRun state = new EvaluationRun(id, previous.runId(), experimentId, plan.dataset().source(),
                plan.dataset().rows().size(), plan.scorerNames());
        int total = plan.dataset().rows().size();
        previous.done().stream().filter(r -> r.index() < total).forEach(state::earlierRow);
        LOG.infof("evaluation %s continues MLflow run %s: %d of %d rows were done, %d cut-off traces removed", id,
                previous.runId(), state.doneRows(), total, previous.unfinishedTraces().size());
        CompletableFuture<Integer> cleaned = previous.unfinishedTraces().isEmpty()
                ? CompletableFuture.completedFuture(0)
                : mlflow.deleteTraces(experimentId, previous.unfinishedTraces());
        return cleaned.thenCompose(n -> mlflow.logBatch(previous.runId(), List.of(), Map.of(),
                Map.of(RunProgress.LEASE_TAG, Long.toString(leaseUntil(plan)), RunProgress.STATE_TAG, "RUNNING",
                        "agentfn.evaluation.id", id)))
                .thenApply(v -> state);
    }

    /**
     * MLflow's lineage tags of an evaluation run (genai/evaluation/lineage.py): the digest over the scorers'
     * definition digests, and the agent under evaluation, which for agentfn is its engine (there is no Python
     * function, so no {@code agent.digest} of its source).
     */
    static Map<String, String> lineageTags(EvaluationPlan plan) {
        List<String> digests = plan.scorers().stream().map(s -> s.metadata().get(MlflowKeys.AssessmentMetadata.SCORER_DIGEST))
                .filter(java.util.Objects::nonNull).sorted().toList();
        StringBuilder value = new StringBuilder("{");
        if (!digests.isEmpty()) {
            value.append("\"digest\": \"").append(Judge.sha256(String.join("\n", digests))).append("\", ");
        }
        value.append("\"hashed\": ").append(digests.size()).append(", \"total\": ").append(plan.scorers().size()).append('}');
        return Map.of(MlflowKeys.RunTag.EVALUATE_SCORERS_DIGEST, value.toString(),
                MlflowKeys.RunTag.EVALUATE_AGENT_FUNCTION, "agentfn." + plan.engine());
    }

    /** Until then no other trigger takes the run over: the budget, then the rows in flight (deadline, judges). */
    private long leaseUntil(EvaluationPlan plan) {
        return System.currentTimeMillis() + plan.timeBudget().toMillis() + inFlightGrace.toMillis();
    }

    /**
     * The agent version as the run's model input, as {@code mlflow.genai.evaluate(model_id=…)} records it: MLflow
     * then lists the run under the version and compares versions by their runs.
     */
    private CompletableFuture<Void> linkAgentVersion(String runId) {
        return agentVersion.get().map(id -> loggedModels.logRunInput(runId, id))
                .orElseGet(() -> CompletableFuture.completedFuture(null));
    }

    /** The dataset as the run's input (Overview and dataset columns of the MLflow UI). */
    private CompletableFuture<Void> logInput(String runId, EvaluationPlan plan) {
        Dataset d = plan.dataset();
        // As MLflow profiles the DataFrame it makes of the rows: one column for inputs, one for expectations.
        int columns = d.rows().stream().anyMatch(r -> !r.expectations().isEmpty()) ? 2 : 1;
        String profile = "{\"num_rows\": " + d.rows().size() + ", \"num_elements\": " + d.rows().size() * columns + "}";
        Dataset.Origin o = d.origin();
        if (o != null) {
            return mlflow.logDatasetInput(runId, truncate(o.name()), o.digest() != null ? o.digest()
                    : EvaluationKey.digest(d), o.sourceType(), o.sourceJson(), profile);
        }
        boolean inline = d.source().startsWith("inline:");
        if (inline) {
            // mlflow.genai.evaluate names a dataset given as a list or DataFrame "dataset".
            return mlflow.logDatasetInput(runId, "dataset", EvaluationKey.digest(d), "code", "{}", profile);
        }
        boolean traces = plan.monitorTag() != null;
        String sourceType = inline ? "code" : traces ? "mlflow_traces" : "local";
        String source = inline || traces ? "{}" : "{\"uri\": " + com.fasterxml.jackson.databind.node.TextNode
                .valueOf(d.source()) + "}";
        return mlflow.logDatasetInput(runId, truncate(d.source()), EvaluationKey.digest(d), sourceType, source,
                profile);
    }

    private Map<String, String> params(EvaluationPlan plan) {
        Map<String, String> params = new java.util.HashMap<>(Map.of("dataset", truncate(plan.dataset().source()),
                "model", plan.model() == null ? agent.defaultModel() : plan.model(),
                "engine", plan.engine(),
                "scorers", truncate(String.join(",", plan.scorerNames())),
                "rows", Integer.toString(plan.dataset().rows().size())));
        Dataset.Origin o = plan.dataset().origin();
        if (o != null && o.id() != null) {
            params.put("dataset_id", o.id());
        }
        if (o != null && o.digest() != null) {
            params.put("dataset_digest", o.digest());
        }
        return params;
        // (time-budgeted runs also carry the evaluation key as a tag, for the next trigger to find them)
    }

    private EvaluationRun runRows(EvaluationRun state, EvaluationPlan plan) {
        long stopStarting = plan.timeBudget() == null ? Long.MAX_VALUE
                : System.nanoTime() + plan.timeBudget().toNanos();
        AtomicInteger skipped = new AtomicInteger();
        List<CompletableFuture<Void>> rows = new ArrayList<>();
        for (DatasetRow row : plan.dataset().rows()) {
            if (!state.isDone(row.index())) {
                rows.add(row(state, plan, row, stopStarting, skipped));
            }
        }
        CompletableFuture.allOf(rows.toArray(CompletableFuture[]::new))
                .thenCompose(v -> skipped.get() > 0 ? pause(state) : complete(state, plan))
                .exceptionally(t -> {
                    failRun(state, "finishing the run failed: " + Futures.message(t));
                    return null;
                });
        return state;
    }

    private CompletableFuture<Void> row(EvaluationRun state, EvaluationPlan plan, DatasetRow row, long stopStarting,
            AtomicInteger skipped) {
        ObjectNode inputs = row.inputs().deepCopy();
        if (plan.model() != null && !inputs.has("model")) {
            inputs.put("model", plan.model());
        }
        CompletableFuture<AgentInvoker.Invocation> invocation = row.recorded() != null
                ? CompletableFuture.completedFuture(row.recorded())
                : agentCalls.submit(() -> {
            // Checked when the row's slot frees up, not when it is queued: rows wait for the limiter.
            if (System.nanoTime() - stopStarting > 0) {
                skipped.incrementAndGet();
                return CompletableFuture.completedFuture((AgentInvoker.Invocation) null);
            }
            return agent.invoke(inputs, plan.engine(), state.runId());
        });
        return invocation.thenCompose(inv -> inv == null ? CompletableFuture.completedFuture(null)
                : score(plan, row, inv.outcome())
                        .thenCompose(assessments -> post(state, plan.scorers(), inv, assessments)
                                .thenCompose(posted -> {
                                    EvaluationRun.RowResult r = result(row, inv.outcome(), assessments);
                                    return (posted ? markDone(state, plan, r) : CompletableFuture
                                            .<Void>completedFuture(null)).thenRun(() -> state.rowDone(r));
                                })))
                .exceptionally(t -> {
                    // Only a bug gets here (agent and scorers report failures as values); count the row anyway.
                    LOG.errorf(LogText.escape(t), "evaluation %s row %d failed", state.id(), row.index());
                    state.mlflowError("row " + row.index(), Futures.message(t));
                    state.rowDone(new EvaluationRun.RowResult(row.index(), null, Futures.message(t), 0, 0, List.of()));
                    return null;
                });
    }

    /** Resumable runs record the row's progress; monitors mark the trace as scored. */
    private CompletableFuture<Void> markDone(EvaluationRun state, EvaluationPlan plan, EvaluationRun.RowResult r) {
        CompletableFuture<Void> mark;
        if (plan.monitorTag() != null) {
            mark = mlflow.setTraceTag(r.traceId(), plan.monitorTag(), state.runId());
        } else if (plan.timeBudget() != null) {
            mark = progress.markDone(state.runId(), r);
        } else {
            return CompletableFuture.completedFuture(null);
        }
        return mark.exceptionally(t -> {
            state.mlflowError("progress", "recording row " + r.index() + " as done failed: " + Futures.message(t));
            return null;
        });
    }

    /** The budget ran out: links what this trigger scored and leaves the run RUNNING for the next trigger. */
    private CompletableFuture<Void> pause(EvaluationRun state) {
        return link(state.runId(), state.newTraceIds(), 0)
                .thenCompose(v -> mlflow.logBatch(state.runId(), List.of(), Map.of(), Map.of(
                        RunProgress.STATE_TAG, "PAUSED", RunProgress.LEASE_TAG, "0",
                        "agentfn.evaluation.progress", state.doneRows() + "/" + state.totalRows())))
                .thenCompose(v -> {
                    Map<String, String> errors = state.mlflowErrors();
                    if (!errors.isEmpty()) {
                        return failRun(state, "incomplete in MLflow: " + String.join("; ", errors.values()));
                    }
                    LOG.infof("evaluation %s paused after its time budget: %d of %d rows done; the next trigger "
                            + "continues run %s", state.id(), state.doneRows(), state.totalRows(), state.runId());
                    state.pause();
                    return CompletableFuture.completedFuture(null);
                });
    }

    private static CompletableFuture<List<Assessment>> score(EvaluationPlan plan, DatasetRow row, RowOutcome o) {
        List<CompletableFuture<Assessment>> all = plan.scorers().stream().map(s -> s.score(row, o)).toList();
        return CompletableFuture.allOf(all.toArray(CompletableFuture[]::new))
                .thenApply(v -> all.stream().map(CompletableFuture::join).toList());
    }

    /** Completes with whether every assessment is in MLflow. */
    private CompletableFuture<Boolean> post(EvaluationRun state, List<Scorer> scorers, AgentInvoker.Invocation inv,
            List<Assessment> list) {
        String traceId = inv.outcome().traceId();
        if (traceId == null) {
            state.mlflowError("trace", "a row has no trace to attach assessments to: " + inv.outcome().error());
            return CompletableFuture.completedFuture(false);
        }
        AtomicBoolean all = new AtomicBoolean(true);
        List<CompletableFuture<String>> posts = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            Assessment a = list.get(i);
            Scorer s = scorers.get(i); // assessments come in scorer order
            posts.add(createWithRetry(assessment(state, inv, a, s), 0).exceptionally(t -> {
                state.mlflowError("assessment", "posting assessment " + a.name() + " on " + traceId + " failed: "
                        + Futures.message(t));
                all.set(false);
                return null;
            }));
        }
        return CompletableFuture.allOf(posts.toArray(CompletableFuture[]::new)).thenApply(v -> all.get());
    }

    /**
     * A trace whose export was not confirmed in time is spooled and redelivered later; until then
     * MLflow answers 404 for its assessments. Waits 0.5, 1, 2, 4 and 8 s for it before giving up. A
     * create that timed out may have been stored all the same, so each retry first looks for it.
     */
    private CompletableFuture<String> createWithRetry(NewAssessment a, int attempt) {
        CompletableFuture<String> create = attempt == 0 ? mlflow.createAssessment(a)
                : mlflow.findAssessment(a).thenCompose(found -> found.map(CompletableFuture::completedFuture)
                        .orElseGet(() -> mlflow.createAssessment(a)));
        return create.handle((id, t) -> {
            if (t == null) {
                return CompletableFuture.completedFuture(id);
            }
            if (attempt >= POST_RETRIES) {
                return CompletableFuture.<String>failedFuture(t);
            }
            return Sleeper.SYSTEM.sleep(Duration.ofMillis(500L << attempt))
                    .thenCompose(v -> createWithRetry(a, attempt + 1));
        }).thenCompose(f -> f);
    }

    /**
     * Linking comes last, when a busy tracking server may still be taking the spooled traces: a timed-out
     * link is tried again (linking is idempotent per trace in MLflow's SQL store) before the run fails.
     */
    private CompletableFuture<Void> link(String runId, List<String> traces, int attempt) {
        return mlflow.linkTracesToRun(runId, traces).handle((v, t) -> {
            if (t == null) {
                return CompletableFuture.<Void>completedFuture(null);
            }
            if (attempt >= 2) {
                return CompletableFuture.<Void>failedFuture(t);
            }
            LOG.warnf("linking traces to run %s failed (%s); trying again", runId, LogText.escape(Futures.message(t)));
            return Sleeper.SYSTEM.sleep(Duration.ofSeconds(2L << attempt))
                    .thenCompose(x -> link(runId, traces, attempt + 1));
        }).thenCompose(f -> f);
    }

    private static NewAssessment assessment(EvaluationRun state, AgentInvoker.Invocation inv, Assessment a, Scorer s) {
        Object value = a.error() == null ? a.value() : new MlflowApi.FeedbackError("SCORER_ERROR", a.error());
        return new NewAssessment(inv.outcome().traceId(), a.name(), AssessmentKind.FEEDBACK, value, s.sourceType(),
                s.sourceId(), a.rationale(), metadata(state.runId(), a, s), inv.rootSpanId());
    }

    /**
     * The keys MLflow's evaluate and judges write: the run, the judge's tokens and cost (the UI's judge cost; as
     * Python's {@code str()} of the number, since MLflow stores {@code str(value)}), the scorer trace when traced,
     * and the scorer's own ({@code guideline}, digest).
     */
    static Map<String, String> metadata(String runId, Assessment a, Scorer s) {
        Map<String, String> m = new java.util.LinkedHashMap<>(s.metadata());
        m.put(MlflowKeys.AssessmentMetadata.SOURCE_RUN_ID, runId);
        if (a.scorerTraceId() != null) {
            m.put(MlflowKeys.AssessmentMetadata.SCORER_TRACE_ID, a.scorerTraceId());
        }
        Assessment.JudgeUsage u = a.usage();
        if (u != null) {
            if (u.costUsd() != null) {
                m.put(MlflowKeys.AssessmentMetadata.JUDGE_COST, PythonFloat.repr(u.costUsd()));
            }
            m.put(MlflowKeys.AssessmentMetadata.JUDGE_INPUT_TOKENS, Long.toString(u.inputTokens()));
            m.put(MlflowKeys.AssessmentMetadata.JUDGE_OUTPUT_TOKENS, Long.toString(u.outputTokens()));
        }
        return m;
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
        List<String> traces = state.newTraceIds();
        Map<String, Double> metrics = RunMetrics.of(state.scorers(), state.rows());
        state.metrics(metrics);
        long now = System.currentTimeMillis();
        List<MlflowApi.Metric> logged = metrics.entrySet().stream()
                .map(e -> new MlflowApi.Metric(e.getKey(), e.getValue(), now, 0)).toList();
        return link(state.runId(), traces, 0)
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
                    return mlflow.logBatch(state.runId(), List.of(), Map.of(), finishedTags(plan))
                            .thenCompose(x -> mlflow.updateRun(state.runId(), RunStatus.FINISHED,
                                    System.currentTimeMillis()))
                            .thenRun(state::finish);
                });
    }

    private static Map<String, String> finishedTags(EvaluationPlan plan) {
        return plan.timeBudget() == null ? Map.of() : Map.of(RunProgress.STATE_TAG, "FINISHED", RunProgress.LEASE_TAG, "0");
    }

    private CompletableFuture<Void> failRun(EvaluationRun state, String reason) {
        LOG.warnf("evaluation %s (run %s) failed: %s", state.id(), state.runId(), LogText.escape(reason));
        state.fail(reason);
        return mlflow.logBatch(state.runId(), List.of(), Map.of(), Map.of(FAILURE_TAG, truncate(reason),
                        MlflowKeys.RunTag.NOTE, "Evaluation failed: " + reason))
                .handle((v, t) -> null)
                .thenCompose(v -> mlflow.updateRun(state.runId(), RunStatus.FAILED, System.currentTimeMillis()));
    }

    private static String truncate(String s) {
        return s.length() > 500 ? s.substring(0, 499) + "…" : s;
    }
}
