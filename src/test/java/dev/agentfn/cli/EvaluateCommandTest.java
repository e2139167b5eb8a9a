package dev.agentfn.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.agentfn.evaluation.EvaluationRun;
import dev.agentfn.evaluation.EvaluationSchedule;
import dev.agentfn.standin.FakeAnthropicServer;
import dev.agentfn.standin.FakeTurn;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.agentfn.evaluation.EvaluationToMlflowTest;
import dev.agentfn.evaluation.SeedExampleTest;
import dev.agentfn.testing.FakeAnthropicResource;
import dev.agentfn.testing.FakeOpenAiResource;
import dev.agentfn.testing.FakeOpenAiServer;
import dev.agentfn.testing.MlflowPython;
import dev.agentfn.testing.MlflowServerResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The {@code evaluate} command (progress, summary, MLflow link, exit code) and the in-process cron schedule. */
@QuarkusTest
class EvaluateCommandTest {
    static final String YES = "{\"result\":\"yes\",\"rationale\":\"fine\"}";
    static final String NO = "{\"result\":\"no\",\"rationale\":\"off topic\"}";
    static final String JUDGE = "{\"type\":\"judge\",\"name\":\"relevance\",\"instructions\":\"Is {{ outputs }} relevant?\"}";

    @Inject
    EvaluateCommand command;
    @Inject
    EvaluationSchedule schedule;
    FakeAnthropicServer fake = FakeAnthropicResource.fake();

    @BeforeEach
    void reset() {
        fake.reset();
    }

    record Result(int code, String out, String err) {
    }

    Result run(boolean terminal, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = command.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), terminal);
        return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    static String dataset() throws Exception {
        Path root = Path.of("target/evaluation-datasets");
        Files.createDirectories(root);
        String name = "cli-" + UUID.randomUUID() + ".jsonl";
        Files.writeString(root.resolve(name), """
                {"inputs":{"prompt":"one"}}
                {"inputs":{"prompt":"two"}}
                {"inputs":{"prompt":"three"}}
                """);
        return name;
    }

    @Test
    void aMissedThresholdIsExitCodeOneWithTheSummaryAndTheRunLink() throws Exception {
        // One worker at a time is not guaranteed: every turn is a valid judge answer and a fine agent answer.
        fake.enqueue(FakeTurn.text(YES), FakeTurn.text(YES), FakeTurn.text(YES), FakeTurn.text(YES),
                FakeTurn.text(NO), FakeTurn.text(NO));
        Result r = run(false, "--dataset", dataset(), "--scorer", "no_error", "--scorer", JUDGE,
                "--threshold", "relevance=0.8", "--threshold", "no_error/mean>=1", "--name", "ci-gate");
        assertEquals(EvaluateCommand.EXIT_THRESHOLD, r.code(), r.out());
        assertTrue(r.out().contains("progress: 3/3 rows, 0 failed"), r.out());
        assertTrue(r.out().matches("(?s).*relevance/mean\\s+0\\.\\d{4}.*"), r.out());
        assertTrue(r.out().matches("(?s).*no_error/mean\\s+1\\.0000.*"), r.out());
        assertTrue(r.out().contains("THRESHOLD MISSED: relevance/mean >= 0.8: got"), r.out());
        assertTrue(r.out().matches("(?s).*MLflow run: http://[^ ]+/#/experiments/" + MlflowServerResource.experimentId()
                + "/runs/[0-9a-f]{32}\n.*"), r.out());
    }

    @Test
    void metThresholdsPassAndATerminalGetsABar() throws Exception {
        for (int i = 0; i < 6; i++) {
            fake.enqueue(FakeTurn.text(YES));
        }
        // The agent's answers are the judge's JSON too: json_schema checks them against MLflow-bound results.
        String schema = "{\"type\":\"json_schema\",\"name\":\"json\",\"schema\":{\"type\":\"object\","
                + "\"required\":[\"result\"],\"properties\":{\"result\":{\"enum\":[\"yes\",\"no\"]}}}}";
        Result r = run(true, "--dataset", dataset(), "--scorer", JUDGE, "--scorer", schema,
                "--threshold", "relevance/mean>=0.8", "--threshold", "json=1");
        assertEquals(EvaluateCommand.EXIT_OK, r.code(), r.out());
        assertTrue(r.out().contains("\r[##############################] 3/3 rows, 0 failed"), r.out());
        assertTrue(r.out().matches("(?s).*json/mean\\s+1\\.0000.*"), r.out());
        assertTrue(r.out().contains("PASSED (2 thresholds met)"), r.out());
    }

    @Test
    void badInputIsExitCodeTwoWithTheReason() {
        Result unknown = run(false, "--dataset", "nope.jsonl", "--scorer", "no_error");
        assertEquals(EvaluateCommand.EXIT_USAGE, unknown.code());
        assertTrue(unknown.err().contains("error: dataset file nope.jsonl does not exist"), unknown.err());
        assertEquals("", unknown.out(), "errors go to stderr");
        Result option = run(false, "--frobnicate", "x");
        assertEquals(EvaluateCommand.EXIT_USAGE, option.code());
        assertTrue(option.err().contains("unknown option --frobnicate") && option.err().contains("usage:"));
        assertThrows(IllegalArgumentException.class, () -> Threshold.parse("relevance ~ 3"));
        assertEquals(new Threshold("agent/latency_ms/p90", "<", 5000), Threshold.parse("agent/latency_ms/p90<5000"));
        assertTrue(Threshold.parse("x=0.5").missed(Map.of()).contains("no such metric"));
    }

    /** Issue #18: the seed's rows and make_judge definition, copied as they are, through the command. */
    @Test
    void theSeedsDatasetAndJudgeRunAsWrittenThroughTheCommand() throws Exception {
        FakeOpenAiServer openai = FakeOpenAiResource.fake();
        openai.reset();
        fake.enqueue(FakeTurn.text("An answer."), FakeTurn.text("An answer."));
        openai.enqueue(FakeOpenAiServer.text(SeedExampleTest.PASS), FakeOpenAiServer.text(SeedExampleTest.FAIL));
        StringBuilder jsonl = new StringBuilder();
        new ObjectMapper().readTree(SeedExampleTest.ROWS).forEach(row -> jsonl.append(row).append('\n'));
        Path root = Path.of("target/evaluation-datasets");
        Files.createDirectories(root);
        String name = "seed-" + UUID.randomUUID() + ".jsonl";
        Files.writeString(root.resolve(name), jsonl);

        Result r = run(false, "--dataset", name, "--scorer", SeedExampleTest.JUDGE, "--name", "seed-cli");
        assertEquals(EvaluateCommand.EXIT_OK, r.code(), r.out() + r.err());
        assertEquals("", r.err());
        Matcher link = Pattern.compile("/runs/([0-9a-f]{32})").matcher(r.out());
        assertTrue(link.find(), r.out());
        assertEquals(2, openai.requests().size());
        assertEquals(SeedExampleTest.SYSTEM, openai.requests().get(0).json().at("/messages/0/content").asText());
        JsonNode mlflow = EvaluationToMlflowTest.readBack(new MlflowPython(MlflowServerResource.server()), link.group(1));
        SeedExampleTest.assertSeedRun(mlflow, "agentfn evaluate", "LOCAL");
    }

    @Test
    void aThresholdNoScorerProducesIsRefusedBeforeTheRun() throws Exception {
        String name = "refused-" + UUID.randomUUID();
        Result r = run(false, "--dataset", dataset(), "--scorer", "no_error", "--scorer", JUDGE, "--name", name,
                "--threshold", "relevance/p90>=0.8", "--threshold", "no_error=1");
        assertEquals(EvaluateCommand.EXIT_USAGE, r.code(), r.out() + r.err());
        assertTrue(r.err().contains("no scorer produces the metric of threshold relevance/p90>=0.8; this run's metrics "
                + "will be [agent/cost_usd/mean, agent/cost_usd/total, agent/error_rate, agent/latency_ms/max, "
                + "agent/latency_ms/mean, agent/latency_ms/p90, no_error/mean, relevance/mean]"), r.err());
        assertEquals(0, fake.messageRequests().size(), "no row ran");
        assertEquals("", r.out(), "errors go to stderr");
        JsonNode runs = new MlflowPython(MlflowServerResource.server()).json("""
                import mlflow, json
                runs = mlflow.search_runs(experiment_ids=["%s"], filter_string="tags.mlflow.runName = '%s'",
                                          output_format="list")
                print(json.dumps({"n": len(runs)}))
                """.formatted(MlflowServerResource.experimentId(), name));
        assertEquals(0, runs.get("n").asInt(), "no MLflow run was created");
    }

    /** A run that failed (here: the judge's key is refused) says why on stderr too, not only in the report. */
    @Test
    void aFailedRunIsExitCodeTwoWithItsReasonOnStderr() throws Exception {
        FakeOpenAiServer openai = FakeOpenAiResource.fake();
        openai.reset();
        for (int i = 0; i < 3; i++) {
            fake.enqueue(FakeTurn.text("An answer."));
            openai.enqueue(FakeOpenAiServer.error(401, "invalid_request_error", "invalid_api_key",
                    "Incorrect API key provided.", Map.of()));
        }
        Result r = run(false, "--dataset", dataset(), "--scorer", SeedExampleTest.JUDGE);
        assertEquals(EvaluateCommand.EXIT_USAGE, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("FAILED: "), r.out());
        assertTrue(r.err().startsWith("error: the evaluation run failed: ") && r.err().contains("401")
                && r.err().contains("judge relevance (openai:/gpt-4o)"), r.err());
    }

    @Test
    void aMalformedDatasetLineIsNamedWithoutTheParsersInternals() throws Exception {
        Path root = Path.of("target/evaluation-datasets");
        Files.createDirectories(root);
        String name = "bad-" + UUID.randomUUID() + ".jsonl";
        Files.writeString(root.resolve(name), "{\"inputs\":{\"prompt\":\"a\"}}\n{\"inputs\":{x}}\n");
        Result r = run(false, "--dataset", name, "--scorer", "no_error");
        assertEquals(EvaluateCommand.EXIT_USAGE, r.code());
        assertEquals("error: line 2: malformed JSON at column 12: unexpected character 'x': was expecting "
                + "double-quote to start field name\n", r.err());
    }

    @Test
    void aCronScheduleStartsTheEvaluationInProcess() throws Exception {
        fake.enqueue(FakeTurn.text("scheduled answer"));
        String name = "cron-" + UUID.randomUUID();
        String request = "{\"name\":\"" + name + "\",\"dataset\":{\"rows\":[{\"inputs\":{\"prompt\":\"Hi\"}}]},"
                + "\"scorers\":[\"no_error\"]}";
        schedule.schedule("test-schedule", "0/1 * * * * ?", () -> request);
        EvaluationRun run;
        try {
            long until = System.currentTimeMillis() + 30_000;
            while ((run = schedule.last()) == null && System.currentTimeMillis() < until) {
                Thread.sleep(100);
            }
        } finally {
            schedule.unschedule("test-schedule");
        }
        assertNotNull(run, "the schedule fired");
        run.settled().get();
        JsonNode mlflow = new MlflowPython(MlflowServerResource.server()).json("""
                import mlflow, json
                r = mlflow.MlflowClient().get_run("%s")
                print(json.dumps({"status": r.info.status, "name": r.info.run_name, "tags": r.data.tags}))
                """.formatted(run.runId()));
        assertEquals("FINISHED", mlflow.get("status").asText());
        assertEquals(name, mlflow.get("name").asText());
        assertEquals("genai_evaluate", mlflow.at("/tags/mlflow.runType").asText());
        // the run page's "Source": the schedule, a service's job (the command's and the API's are in SeedExampleTest)
        assertEquals("agentfn schedule", mlflow.at("/tags/mlflow.source.name").asText(), mlflow.toString());
        assertEquals("JOB", mlflow.at("/tags/mlflow.source.type").asText());
        assertEquals(System.getProperty("user.name"), mlflow.at("/tags/mlflow.user").asText());
    }
}
