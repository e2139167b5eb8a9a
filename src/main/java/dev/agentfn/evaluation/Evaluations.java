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
    private TraceSampler sampler;
    private MlflowDatasets mlflowDatasets;
    private int maxTraces = 10_000;
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

    /** Enables {@code "dataset": {"traces": …}} (monitoring of production traces). */
    public Evaluations withTraces(TraceSampler traceSampler, int max) {
        this.sampler = traceSampler;
        this.maxTraces = max;
        return this;
    }

    /** Enables {@code "dataset": {"mlflow_dataset": …}} (MLflow-managed evaluation datasets). */
    public Evaluations withMlflowDatasets(MlflowDatasets loader) {
        this.mlflowDatasets = loader;
        return this;
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
        if (body.path("dataset").has("traces")) {
            return monitor(body, engine, model);
        }
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
        java.time.Duration budget = body.has("time_budget") ? duration(body.get("time_budget"), "time_budget")
                : defaultBudget.orElse(null);
        String key = EvaluationKey.of(name, dataset, body.get("scorers"), engine, model);
        return new EvaluationPlan(name, dataset, list, engine, model, key, budget, null);
    }

    /**
     * Scores recent production traces instead of running the agent. Needs a {@code name}: it names the
     * tag that keeps this monitor from scoring a trace twice.
     */
    private EvaluationPlan monitor(JsonNode body, String engine, String model) {
        JsonNode spec = body.get("dataset");
        if (spec.size() != 1) {
            throw new EvaluationException("\"dataset\" needs exactly one of " + new TreeSet<>(SOURCES));
        }
        if (!body.hasNonNull("name")) {
            throw new EvaluationException("a trace dataset needs a \"name\": traces this monitor scored are tagged "
                    + "with it and skipped next time");
        }
        if (body.has("time_budget")) {
            throw new EvaluationException("\"time_budget\" does not apply to trace datasets: traces left unscored "
                    + "are picked up by the next run of the monitor");
        }
        if (sampler == null) {
            throw new EvaluationException("trace datasets need MLflow (agentfn.mlflow.tracking-uri)");
        }
        TraceSampler.Spec traces = traceSpec(spec.get("traces"));
        List<Scorer> list = scorers.create(body.get("scorers"));
        String name = body.get("name").asText();
        String experimentId = spec.get("traces").hasNonNull("experiment_id")
                ? spec.get("traces").get("experiment_id").asText() : experiment.get().join();
        Dataset dataset = sampler.select(experimentId, traces, name);
        return new EvaluationPlan(name, dataset, list, engine, model, null, null, TraceSampler.tagFor(name));
    }

    private TraceSampler.Spec traceSpec(JsonNode t) {
        if (t == null || !t.isObject()) {
            throw new EvaluationException("dataset.traces must be an object: {\"filter\", \"window\", \"sample\", "
                    + "\"max_traces\", \"experiment_id\"}");
        }
        Set<String> known = Set.of("filter", "window", "sample", "max_traces", "experiment_id");
        t.fieldNames().forEachRemaining(f -> {
            if (!known.contains(f)) {
                throw new EvaluationException("dataset.traces: unknown field \"" + f + "\"; known: " + new TreeSet<>(known));
            }
        });
        java.time.Duration window = t.has("window") ? duration(t.get("window"), "dataset.traces.window")
                : java.time.Duration.ofHours(1);
        double sample = t.path("sample").asDouble(1.0);
        if (!(sample > 0 && sample <= 1)) {
            throw new EvaluationException("dataset.traces.sample must be in (0, 1], got " + t.get("sample"));
        }
        int max = t.path("max_traces").asInt(maxTraces);
        if (max < 1 || max > maxTraces) {
            throw new EvaluationException("dataset.traces.max_traces must be between 1 and " + maxTraces
                    + " (agentfn.evaluation.max-rows)");
        }
        String filter = t.hasNonNull("filter") ? t.get("filter").asText() : null;
        return new TraceSampler.Spec(filter, window, sample, max);
    }

    /** Seconds (a number) or a duration text: {@code 90s}, {@code 10m}, {@code PT10M}. */
    static java.time.Duration duration(JsonNode v, String field) {
        java.time.Duration d;
        try {
            if (v.isNumber()) {
                d = java.time.Duration.ofMillis(Math.round(v.asDouble() * 1000));
            } else {
                String t = v.asText().strip().toUpperCase(java.util.Locale.ROOT);
                d = java.time.Duration.parse(t.startsWith("P") ? t : "PT" + t);
            }
        } catch (RuntimeException e) {
            throw new EvaluationException("\"" + field + "\" must be seconds or a duration such as \"10m\" or "
                    + "\"PT10M\", got " + v);
        }
        if (d.isNegative() || d.isZero()) {
            throw new EvaluationException("\"" + field + "\" must be positive, got " + v);
        }
        return d;
    }

    private static final Set<String> SOURCES = Set.of("path", "rows", "url", "mlflow_dataset", "traces");

    /** Options of a dataset beside its source: how rows that are not requests find their prompt. */
    private static final Set<String> MAPPING = Set.of("prompt_key", "prompt_template");

    private Dataset dataset(JsonNode spec) {
        if (spec == null || !spec.isObject()) {
            throw new EvaluationException("\"dataset\" is required: {\"path\":\"…\"}, {\"url\":\"https://…\"}, "
                    + "{\"mlflow_dataset\":\"…\"} or {\"rows\":[…]}");
        }
        List<String> given = new ArrayList<>();
        spec.fieldNames().forEachRemaining(f -> {
            if (SOURCES.contains(f)) {
                given.add(f);
            } else if (!MAPPING.contains(f)) {
                throw new EvaluationException("dataset: unknown field \"" + f + "\"; a dataset is one of "
                        + new TreeSet<>(SOURCES) + ", with optional " + new TreeSet<>(MAPPING));
            }
        });
        if (given.size() != 1) {
            throw new EvaluationException("\"dataset\" needs exactly one of " + new TreeSet<>(SOURCES));
        }
        PromptMapping mapping = PromptMapping.of(spec.hasNonNull("prompt_key") ? text(spec, "prompt_key") : null,
                spec.hasNonNull("prompt_template") ? text(spec, "prompt_template") : null);
        return switch (given.get(0)) {
            case "path" -> datasets.file(text(spec, "path"), mapping);
            case "url" -> datasets.url(text(spec, "url"), mapping);
            case "mlflow_dataset" -> mlflowDataset(spec, mapping);
            default -> inlineRows(spec, mapping);
        };
    }

    private Dataset mlflowDataset(JsonNode spec, PromptMapping mapping) {
        if (mlflowDatasets == null) {
            throw new EvaluationException("MLflow datasets need MLflow (agentfn.mlflow.tracking-uri)");
        }
        return mlflowDatasets.load(text(spec, "mlflow_dataset"), mapping);
    }

    private Dataset inlineRows(JsonNode spec, PromptMapping mapping) {
        if (!spec.get("rows").isArray()) {
            throw new EvaluationException("dataset.rows must be a list");
        }
        List<JsonNode> rows = new ArrayList<>();
        spec.get("rows").forEach(rows::add);
        return datasets.inline(rows, mapping);
    }

    private static String text(JsonNode spec, String field) {
        JsonNode v = spec.get(field);
        if (v == null || !v.isTextual() || v.asText().isBlank()) {
            throw new EvaluationException("dataset." + field + " must be a non-empty text");
        }
        return v.asText();
    }

    /** Completes once the MLflow run exists; the rows continue in the background. */
    public CompletableFuture<EvaluationRun> start(EvaluationPlan plan) {
        String id = "ev-" + UUID.randomUUID().toString().replace("-", "");
        if (plan.dataset().rows().isEmpty()) {
            // A monitor that found nothing new: no empty run every few minutes.
            EvaluationRun none = new EvaluationRun(id, null, null, plan.dataset().source(), 0, plan.scorerNames());
            none.finish();
            remember(none);
            return CompletableFuture.completedFuture(none);
        }
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
