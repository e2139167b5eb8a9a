package dev.agentfn.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.agentfn.standin.FakeAnthropicServer;
import dev.agentfn.standin.FakeTurn;
import dev.agentfn.testing.FakeAnthropicResource;
import dev.agentfn.testing.MlflowPython;
import dev.agentfn.testing.MlflowServer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The packaged artifact as CI runs it: {@code java -jar target/quarkus-app/quarkus-run.jar evaluate …} as a
 * real process (after {@code package}, in Maven's {@code integration-test} phase), against the fake Messages
 * API and a real MLflow server started here. Its stdout is a file, so it is not a terminal.
 */
class EvaluateCommandIT {
    static final Path JAR = MlflowServer.projectDir().resolve("target/quarkus-app/quarkus-run.jar");
    static final String ANSWER = "The answer.";
    static FakeAnthropicServer fake;
    static MlflowServer mlflow;
    static String experimentId;
    static Path work;

    @BeforeAll
    static void start() throws IOException {
        assertTrue(Files.isRegularFile(JAR), JAR + " is missing: run the IT after `package` (./mvnw verify)");
        fake = new FakeAnthropicServer().start(0);
        mlflow = MlflowServer.startSqlite();
        experimentId = mlflow.createExperiment("cli-it-" + System.currentTimeMillis());
        work = Files.createTempDirectory(MlflowServer.projectDir().resolve("target"), "cli-it-");
        StringBuilder rows = new StringBuilder();
        for (int i = 0; i < 6; i++) {
            rows.append("{\"inputs\":{\"prompt\":\"Question ").append(i)
                    .append("\"},\"expectations\":{\"expected_response\":\"").append(ANSWER).append("\"}}\n");
        }
        Files.writeString(work.resolve("qa.jsonl"), rows);
    }

    @AfterAll
    static void stop() {
        if (mlflow != null) {
            mlflow.close();
        }
        if (fake != null) {
            fake.close();
        }
    }

    record Result(int code, String out, String err) {
    }

    /** Runs the artifact with the environment a CI job would give it. */
    static Result evaluate(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-jar", JAR.toString(), "evaluate"));
        cmd.addAll(List.of(args));
        Path out = work.resolve("stdout-" + System.nanoTime());
        Path err = work.resolve("stderr-" + System.nanoTime());
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(work.toFile())
                .redirectOutput(out.toFile()).redirectError(err.toFile()).redirectInput(ProcessBuilder.Redirect.PIPE);
        Map<String, String> env = pb.environment();
        env.put("ANTHROPIC_API_KEY", FakeAnthropicResource.TEST_API_KEY);
        env.put("ANTHROPIC_BASE_URL", fake.baseUrl());
        env.put("MLFLOW_TRACKING_URI", mlflow.uri().toString());
        env.put("MLFLOW_EXPERIMENT_ID", experimentId);
        // One row at a time, each taking a while, so the run lasts long enough to print progress lines.
        env.put("AGENTFN_EVALUATION_AGENT_CONCURRENCY", "1");
        Process p = pb.start();
        p.getOutputStream().close();
        if (!p.waitFor(3, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new AssertionError("evaluate did not exit within 3 minutes; stdout:\n" + Files.readString(out));
        }
        return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                Files.readString(err, StandardCharsets.UTF_8));
    }

    @Test
    void passingThresholdsExitZeroWithSummaryAndRunLinkAndPlainProgress() throws Exception {
        fake.reset();
        fake.defaultLatency(Duration.ofMillis(700));
        for (int i = 0; i < 6; i++) {
            fake.enqueue(FakeTurn.text(ANSWER));
        }
        Result r = evaluate("--dataset", "qa.jsonl", "--name", "cli-it", "--scorer", "no_error",
                "--scorer", "exact_match", "--threshold", "no_error/mean>=1", "--threshold", "exact_match=1");
        String why = "stdout:\n" + r.out() + "\nstderr:\n" + r.err();
        assertEquals(0, r.code(), why);
        assertTrue(r.out().startsWith("evaluation ev-"), "stdout is the report, logs go to stderr: " + why);
        assertTrue(r.err().contains("Listening on: http://127.0.0.1:"), why);
        // Plain progress lines, no bar redrawn with carriage returns.
        assertTrue(r.out().contains("progress: 6/6 rows, 0 failed"), why);
        assertTrue(r.out().lines().filter(l -> l.startsWith("progress: ")).count() >= 2, why);
        assertFalse(r.out().contains("\r") || r.out().contains("[#"), why);
        assertTrue(Pattern.compile("(?m)^no_error/mean\\s+1\\.0000$").matcher(r.out()).find(), why);
        assertTrue(Pattern.compile("(?m)^exact_match/mean\\s+1\\.0000$").matcher(r.out()).find(), why);
        Matcher link = Pattern.compile("MLflow run: " + Pattern.quote(mlflow.uri().toString()) + "/#/experiments/"
                + experimentId + "/runs/([0-9a-f]{32})").matcher(r.out());
        assertTrue(link.find(), why);

        JsonNode run = new MlflowPython(mlflow).json("""
                import mlflow, json
                r = mlflow.MlflowClient().get_run("%s")
                print(json.dumps({"status": r.info.status, "type": r.data.tags.get("mlflow.runType"),
                                  "metrics": r.data.metrics}))
                """.formatted(link.group(1)));
        assertEquals("FINISHED", run.get("status").asText());
        assertEquals("genai_evaluate", run.get("type").asText());
        assertEquals(1.0, run.at("/metrics/no_error~1mean").asDouble());
        assertFalse((r.out() + r.err()).contains(FakeAnthropicResource.TEST_API_KEY));
    }

    @Test
    void aMissedThresholdIsANonZeroExit() throws Exception {
        fake.reset();
        fake.defaultLatency(Duration.ZERO);
        for (int i = 0; i < 6; i++) {
            fake.enqueue(FakeTurn.text(ANSWER));
        }
        Result r = evaluate("--dataset", "qa.jsonl", "--name", "cli-it-miss", "--scorer", "no_error",
                "--threshold", "no_error/mean>=1.1");
        String why = "stdout:\n" + r.out() + "\nstderr:\n" + r.err();
        assertEquals(1, r.code(), why);
        assertTrue(r.out().contains("THRESHOLD MISSED: no_error/mean >= 1.1: got 1"), why);
        assertTrue(r.out().contains("MLflow run: " + mlflow.uri()), why);
    }
}
