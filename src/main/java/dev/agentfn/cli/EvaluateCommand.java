package dev.agentfn.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.agentfn.evaluation.EvaluationException;
import dev.agentfn.evaluation.EvaluationPlan;
import dev.agentfn.evaluation.EvaluationRun;
import dev.agentfn.evaluation.Evaluations;
import dev.agentfn.evaluation.RunSource;
import dev.agentfn.mlflow.MlflowAccess;
import jakarta.inject.Singleton;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * {@code evaluate}: one evaluation run from the command line, for CI. Progress while it runs (a bar
 * on a terminal, plain lines otherwise), then a table of the run metrics and the MLflow link; the
 * exit code is the verdict: 0 passed, 1 a threshold missed, 2 bad usage or input or a failed run,
 * 3 paused by its time budget (run the same command again to continue).
 */
@Singleton
public class EvaluateCommand {
    static final String NAME = "evaluate";
    static final int EXIT_OK = 0;
    static final int EXIT_THRESHOLD = 1;
    static final int EXIT_USAGE = 2;
    static final int EXIT_PAUSED = 3;
    private static final long PLAIN_EVERY_MS = 2000;
    static final String USAGE = """
            usage: evaluate [--request FILE.json] [--dataset FILE|URL|mlflow:NAME] [--scorer NAME|JSON]... [--name NAME]
                            [--model MODEL] [--engine ENGINE] [--time-budget 10m] [--threshold METRIC>=X]...
              --request     a POST /v1/evaluations body; the other options override or extend it
              --dataset     a JSONL or CSV file (under agentfn.evaluation.dataset-root, default: this directory),
                            an https:// URL of one, or mlflow:NAME_OR_ID for an MLflow evaluation dataset
              --scorer      a code scorer name or a scorer JSON object; repeatable
              --threshold   relevance/mean>=0.8, agent/latency_ms/p90<5000, or relevance=0.8 (= relevance/mean>=0.8)
            exit code: 0 passed, 1 a threshold missed, 2 bad input or the run failed, 3 paused by its time budget""";

    private final Evaluations evaluations;
    private final ObjectMapper json;
    private final String trackingUri;

    public EvaluateCommand(Evaluations evaluations, ObjectMapper json, MlflowAccess mlflow) {
        this.evaluations = evaluations;
        this.json = json;
        this.trackingUri = mlflow.trackingUri();
    }

    /** Runs the command with errors on the process's stderr; returns the exit code. */
    public int run(String[] args, PrintStream out, boolean terminal) {
        return run(args, out, System.err, terminal);
    }

    /**
     * Runs the command; returns the exit code. {@code out} gets the report (progress, metrics, link, verdict),
     * {@code err} what went wrong before there was one (usage, bad input, a threshold no scorer can meet) and why a
     * run failed.
     */
    public int run(String[] args, PrintStream out, PrintStream err, boolean terminal) {
        ObjectNode body;
        List<Threshold> thresholds = new ArrayList<>();
        try {
            body = body(args, thresholds);
        } catch (IllegalArgumentException e) {
            err.println("error: " + e.getMessage());
            err.println(USAGE);
            return EXIT_USAGE;
        }
        if (!evaluations.available()) {
            err.println("error: evaluations record into MLflow; set MLFLOW_TRACKING_URI");
            return EXIT_USAGE;
        }
        EvaluationRun run;
        try {
            EvaluationPlan plan = evaluations.plan(body).withSource(RunSource.COMMAND);
            String unknown = unknownMetrics(thresholds, plan);
            if (unknown != null) {
                err.println("error: " + unknown);
                return EXIT_USAGE;
            }
            run = evaluations.start(plan).get();
        } catch (EvaluationException e) {
            err.println("error: " + e.getMessage());
            return EXIT_USAGE;
        } catch (Exception e) {
            err.println("error: " + rootMessage(e));
            return EXIT_USAGE;
        }
        out.println("evaluation " + run.id() + ": " + run.totalRows() + " rows"
                + (run.resumedRows() > 0 ? " (" + run.resumedRows() + " done by an earlier trigger)" : "")
                + (run.runId() == null ? "" : ", MLflow run " + run.runId()));
        follow(run, out, terminal);
        return verdict(run, thresholds, out, err);
    }

    /** A threshold on a metric this run cannot log would only ever miss: refused before any row runs. */
    private static String unknownMetrics(List<Threshold> thresholds, EvaluationPlan plan) {
        java.util.SortedSet<String> possible = plan.possibleMetrics();
        List<String> unknown = thresholds.stream().filter(t -> !possible.contains(t.metric())).map(Threshold::toString)
                .toList();
        return unknown.isEmpty() ? null : "no scorer produces the metric of threshold " + String.join(", ", unknown)
                + "; this run's metrics will be " + possible;
    }

    private void follow(EvaluationRun run, PrintStream out, boolean terminal) {
        Progress progress = new Progress(out, terminal, run.totalRows(), run.resumedRows());
        long lastPlain = 0;
        int lastDone = -1;
        while (true) {
            try {
                run.settled().get(terminal ? 200 : 500, TimeUnit.MILLISECONDS);
                break;
            } catch (java.util.concurrent.TimeoutException e) {
                long now = System.currentTimeMillis();
                if (terminal || (run.doneRows() != lastDone && now - lastPlain >= PLAIN_EVERY_MS)) {
                    progress.show(run.doneRows(), run.failedRows());
                    lastPlain = now;
                    lastDone = run.doneRows();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (java.util.concurrent.ExecutionException e) {
                break;
            }
        }
        progress.show(run.doneRows(), run.failedRows());
        progress.end();
    }

    private int verdict(EvaluationRun run, List<Threshold> thresholds, PrintStream out, PrintStream err) {
        Map<String, Double> metrics = new java.util.TreeMap<>(run.metrics());
        if (!metrics.isEmpty()) {
            int width = metrics.keySet().stream().mapToInt(String::length).max().orElse(6);
            out.printf("%n%-" + width + "s  %s%n", "metric", "value");
            metrics.forEach((k, v) -> out.printf("%-" + width + "s  %.4f%n", k, v));
        }
        if (run.runId() != null && trackingUri != null) {
            out.println("\nMLflow run: " + trackingUri + "/#/experiments/" + run.experimentId() + "/runs/" + run.runId());
        }
        switch (run.status()) {
            case FAILED -> {
                out.println("FAILED: " + run.failure());
                // the report says it, and so does stderr: a CI log that keeps only errors must show why
                err.println("error: the evaluation run failed: " + run.failure());
                return EXIT_USAGE;
            }
            case PAUSED -> {
                out.println("PAUSED: the time budget ran out after " + run.doneRows() + " of " + run.totalRows()
                        + " rows; run the same command again to continue the run");
                return EXIT_PAUSED;
            }
            default -> {
            }
        }
        List<String> missed = thresholds.stream().map(t -> t.missed(metrics)).filter(m -> m != null).toList();
        if (!missed.isEmpty()) {
            missed.forEach(m -> out.println("THRESHOLD MISSED: " + m));
            return EXIT_THRESHOLD;
        }
        out.println("PASSED" + (thresholds.isEmpty() ? "" : " (" + thresholds.size() + " thresholds met)"));
        return EXIT_OK;
    }

    private ObjectNode body(String[] args, List<Threshold> thresholds) {
        ObjectNode body = json.createObjectNode();
        ArrayNode scorers = json.createArrayNode();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("--help") || a.equals("-h")) {
                throw new IllegalArgumentException("help");
            }
            String v = value(args, ++i, a);
            switch (a) {
                case "--request" -> {
                    JsonNode file = readJson(Path.of(v));
                    if (!file.isObject()) {
                        throw new IllegalArgumentException("--request " + v + " must hold a JSON object");
                    }
                    ((ObjectNode) file).fields().forEachRemaining(e -> {
                        if (!body.has(e.getKey())) {
                            body.set(e.getKey(), e.getValue());
                        }
                    });
                }
                case "--dataset" -> body.putObject("dataset").put(datasetKind(v), datasetValue(v));
                case "--scorer" -> scorers.add(v.strip().startsWith("{") ? parse(v, a) : json.getNodeFactory().textNode(v));
                case "--name" -> body.put("name", v);
                case "--model" -> body.put("model", v);
                case "--engine" -> body.put("engine", v);
                case "--time-budget" -> body.put("time_budget", v);
                case "--threshold" -> thresholds.add(Threshold.parse(v));
                default -> throw new IllegalArgumentException("unknown option " + a);
            }
        }
        if (!scorers.isEmpty()) {
            body.set("scorers", scorers);
        }
        body.remove("wait");
        return body;
    }

    /** {@code https://…} and {@code http://…} are URLs, {@code mlflow:NAME} an MLflow dataset, the rest a path. */
    private static String datasetKind(String v) {
        String lower = v.toLowerCase(java.util.Locale.ROOT);
        return lower.startsWith("https://") || lower.startsWith("http://") ? "url"
                : lower.startsWith("mlflow:") ? "mlflow_dataset" : "path";
    }

    private static String datasetValue(String v) {
        return datasetKind(v).equals("mlflow_dataset") ? v.substring("mlflow:".length()) : v;
    }

    private static String value(String[] args, int i, String option) {
        if (i >= args.length) {
            throw new IllegalArgumentException(option + " needs a value");
        }
        return args[i];
    }

    private JsonNode readJson(Path file) {
        String text;
        try {
            text = Files.readString(file);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read " + file + " (" + e.getClass().getSimpleName() + ")");
        }
        try {
            return json.readTree(text);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalArgumentException(file + ": malformed JSON" + where(e));
        }
    }

    private JsonNode parse(String v, String option) {
        try {
            return json.readTree(v);
        } catch (IOException e) {
            throw new IllegalArgumentException(option + " " + v + ": malformed JSON");
        }
    }

    /** The line and column only: the parser's own message quotes the input and its internals. */
    private static String where(com.fasterxml.jackson.core.JsonProcessingException e) {
        return e.getLocation() == null ? "" : " at line " + e.getLocation().getLineNr() + ", column "
                + e.getLocation().getColumnNr();
    }

    private static String rootMessage(Throwable t) {
        Throwable c = t;
        while (c.getCause() != null) {
            c = c.getCause();
        }
        return c.getMessage() == null ? c.getClass().getSimpleName() : c.getMessage();
    }

    /** A bar redrawn in place on a terminal; plain lines for logs. */
    static final class Progress {
        private final PrintStream out;
        private final boolean terminal;
        private final int total;
        private final int resumed;
        private final long started = System.nanoTime();

        Progress(PrintStream out, boolean terminal, int total, int resumed) {
            this.out = out;
            this.terminal = terminal;
            this.total = total;
            this.resumed = resumed;
        }

        void show(int done, int failed) {
            String left = timeLeft(done);
            if (terminal) {
                int width = 30;
                int filled = total == 0 ? width : (int) ((long) done * width / total);
                out.print("\r[" + "#".repeat(filled) + " ".repeat(width - filled) + "] " + done + "/" + total
                        + " rows, " + failed + " failed" + left + "   ");
            } else {
                out.println("progress: " + done + "/" + total + " rows, " + failed + " failed" + left);
            }
            out.flush();
        }

        void end() {
            if (terminal) {
                out.println();
            }
        }

        private String timeLeft(int done) {
            int mine = done - resumed;
            if (mine <= 0 || done >= total) {
                return "";
            }
            long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
            Duration left = Duration.ofMillis(elapsedMs * (total - done) / mine);
            return String.format(", ~%d:%02d left", left.toMinutes(), left.toSecondsPart());
        }
    }
}
