package dev.agentfn.evaluation;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/** Validates evaluation requests, starts them, and keeps recent ones for progress queries. */
public final class Evaluations {
    static final Set<String> FIELDS = Set.of("name", "dataset", "scorers", "engine", "model", "time_budget", "wait");

    private final Datasets datasets;
    private final Scorers scorers;
    private final AgentInvoker agent;
    private final EvaluationRunner runner;
    private final Supplier<CompletableFuture<String>> experiment;
    private final int retained;
    private final Optional<java.time.Duration> defaultBudget;
    private final Map<String, EvaluationRun> runs = new LinkedHashMap<>();

    /** @param runner {@code null} when MLflow is not configured: evaluations are then refused */
    public Evaluations(Datasets datasets, Scorers scorers, AgentInvoker agent, EvaluationRunner runner,
            Supplier<CompletableFuture<String>> experiment, int retained) {
        this(datasets, scorers, agent, runner, experiment, retained, Optional.empty());
    }

    /** @param defaultBudget time budget of evaluations that set none ({@code agentfn.evaluation.time-budget}) */
    public Evaluations(Datasets datasets, Scorers scorers, AgentInvoker agent, EvaluationRunner runner,
            Supplier<CompletableFuture<String>> experiment, int retained, Optional<java.time.Duration> defaultBudget) {
        this.defaultBudget = defaultBudget;
        this.datasets = datasets;
        this.scorers = scorers;
        this.agent = agent;
        this.runner = runner;
        this.experiment = experiment;
        this.retained = retained;
    }

    public boolean available() {
        return runner != null;
    }

    /** Everything that can be checked before a run exists; throws {@link EvaluationException}. */
    public EvaluationPlan plan(JsonNode body) {
        if (body == null || !body.isObject()) {
            throw new EvaluationException("the body must be a JSON object with \"dataset\" and \"scorers\"");
        }
        Set<String> unknown = new TreeSet<>();
        body.fieldNames().forEachRemaining(f -> {
            if (!FIELDS.contains(f)) {
                unknown.add(f);
            }
        });
        if (!unknown.isEmpty()) {
            throw new EvaluationException("unknown fields " + unknown + "; accepted fields are " + new TreeSet<>(FIELDS));
        }
        String engine = body.path("engine").asText("messages");
        if (!agent.engines().contains(engine)) {
            throw new EvaluationException("engine '" + engine + "' is not available; offered: "
                    + new TreeSet<>(agent.engines()));
        }
        String model = body.hasNonNull("model") ? body.get("model").asText() : null;
        Dataset dataset = dataset(body.get("dataset"));
        List<Scorer> list = scorers.create(body.get("scorers"));
        for (DatasetRow row : dataset.rows()) {
            ObjectNode inputs = row.inputs().deepCopy();
            if (model != null && !inputs.has("model")) {
                inputs.put("model", model);
            }
            agent.validate(inputs, "dataset " + row.where());
        }
        String name = body.path("name").asText("evaluation-" + UUID.randomUUID().toString().substring(0, 8));
        java.time.Duration budget = body.has("time_budget") ? budget(body.get("time_budget"))
                : defaultBudget.orElse(null);
        String key = EvaluationKey.of(name, dataset, body.get("scorers"), engine, model);
        return new EvaluationPlan(name, dataset, list, engine, model, key, budget);
    }

    /** Seconds (a number) or a duration text: {@code 90s}, {@code 10m}, {@code PT10M}. */
    static java.time.Duration budget(JsonNode v) {
        java.time.Duration d;
        try {
            if (v.isNumber()) {
                d = java.time.Duration.ofMillis(Math.round(v.asDouble() * 1000));
            } else {
                String t = v.asText().strip().toUpperCase(java.util.Locale.ROOT);
                d = java.time.Duration.parse(t.startsWith("P") ? t : "PT" + t);
            }
        } catch (RuntimeException e) {
            throw new EvaluationException("\"time_budget\" must be seconds or a duration such as \"10m\" or "
                    + "\"PT10M\", got " + v);
        }
        if (d.isNegative() || d.isZero()) {
            throw new EvaluationException("\"time_budget\" must be positive, got " + v);
        }
        return d;
    }

    private Dataset dataset(JsonNode spec) {
        if (spec == null || !spec.isObject()) {
            throw new EvaluationException("\"dataset\" is required: {\"path\":\"…\"} or {\"rows\":[…]}");
        }
        if (spec.has("path") == spec.has("rows")) {
            throw new EvaluationException("\"dataset\" needs exactly one of \"path\" and \"rows\"");
        }
        if (spec.has("path")) {
            return datasets.file(spec.get("path").asText());
        }
        if (!spec.get("rows").isArray()) {
            throw new EvaluationException("dataset.rows must be a list");
        }
        List<JsonNode> rows = new ArrayList<>();
        spec.get("rows").forEach(rows::add);
        return datasets.inline(rows);
    }

    /** Completes once the MLflow run exists; the rows continue in the background. */
    public CompletableFuture<EvaluationRun> start(EvaluationPlan plan) {
        String id = "ev-" + UUID.randomUUID().toString().replace("-", "");
        return experiment.get().thenCompose(exp -> runner.start(id, exp, plan)).thenApply(run -> {
            remember(run);
            return run;
        });
    }

    public synchronized Optional<EvaluationRun> get(String id) {
        return Optional.ofNullable(runs.get(id));
    }

    /** Keeps the newest N; a finished one is dropped before a running one. */
    private synchronized void remember(EvaluationRun run) {
        runs.put(run.id(), run);
        var it = runs.values().iterator();
        while (runs.size() > retained && it.hasNext()) {
            if (it.next().status() != EvaluationRun.Status.RUNNING) {
                it.remove();
            }
        }
    }
}
