package dev.agentfn.api;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.agentfn.standin.FakeAnthropicServer;
import dev.agentfn.testing.ExternalTool;
import dev.agentfn.testing.FakeAnthropicResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.RestAssured;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Schemathesis (pinned, installed by {@code .ci/setup-schemathesis.sh}) fuzzes {@code /v1/invocations} and
 * {@code /v1/evaluations} from the served OpenAPI document: every answer must be no 5xx and of a documented
 * content type. Loopback only; the examples per operation are bounded, and the requests it gets accepted
 * are answered by the fake Messages API. The virtualenv comes from system property
 * {@code agentfn-tests.schemathesis-venv} (bin/test passes it); missing, the test fails under {@code CI=true}.
 */
@QuarkusTest
class FuzzApiTest {
    /** Per operation and phase; with three operations the run stays well under a minute. */
    static final int MAX_EXAMPLES = 40;
    static final long TIMEOUT_SECONDS = 240;
    static final Path WORK = Path.of("target", "schemathesis").toAbsolutePath();
    final FakeAnthropicServer fake = FakeAnthropicResource.fake();

    static Path venv() {
        String p = System.getProperty("agentfn-tests.schemathesis-venv");
        Path venv = p == null || p.isBlank()
                ? Path.of(System.getProperty("user.home"), ".cache", "agentfn", "schemathesis-4.32.5") : Path.of(p);
        if (!Files.isExecutable(venv.resolve("bin/schemathesis"))) {
            String why = "no schemathesis in " + venv + "; run .ci/setup-schemathesis.sh (bin/test does)";
            ExternalTool.missing(why);
        }
        return venv;
    }

    @BeforeEach
    void reset() throws IOException {
        fake.reset();
        Files.createDirectories(WORK);
    }

    @Test
    void servedDocumentIsValidOpenApi() throws Exception {
        Path doc = WORK.resolve("openapi.json");
        Files.write(doc, given().when().get("/q/openapi?format=json").then().statusCode(200).extract().asByteArray());
        Run r = run(List.of(venv().resolve("bin/openapi-spec-validator").toString(), doc.toString()), "validator");
        assertEquals(0, r.exit, r.output);
    }

    @Test
    void noServerErrorAndOnlyDocumentedContentTypes() throws Exception {
        String base = "http://127.0.0.1:" + RestAssured.port;
        long before = fake.receivedRequests();
        Run r = run(List.of(venv().resolve("bin/schemathesis").toString(), "run", base + "/q/openapi?format=json",
                "--url", base, "--include-path-regex", "^/v1/(invocations|evaluations)",
                "--checks", "not_a_server_error,content_type_conformance",
                "--phases", "examples,coverage,fuzzing", "--max-examples", String.valueOf(MAX_EXAMPLES),
                "--workers", "1", "--seed", "16", "--generation-database", "none", "--no-shrink",
                "--request-timeout", "40", "--no-color", "--report", "junit",
                "--report-junit-path", WORK.resolve("junit.xml").toString()), "schemathesis");
        long upstream = fake.receivedRequests() - before;
        assertEquals(0, r.exit, "schemathesis found failures (report: target/schemathesis/junit.xml):\n" + r.output);
        // A path filter or document that selects nothing would pass as well: the three operations must be tested.
        assertTrue(r.output.contains("Tested: 3"), "not all three operations were tested:\n" + r.output);
        // The accepted requests cost one fake model call each (a tool loop a few); bounded by the examples.
        assertTrue(upstream < 20L * MAX_EXAMPLES, upstream + " model calls");
        System.out.println("schemathesis: " + upstream + " model calls answered by the fake\n" + tail(r.output, 4000));
    }

    record Run(int exit, String output) {
    }

    static Run run(List<String> command, String name) throws Exception {
        Path log = WORK.resolve(name + ".log");
        Process p = new ProcessBuilder(command).directory(WORK.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile()).start();
        if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor();
            fail(name + " ran over " + TIMEOUT_SECONDS + " s:\n" + tail(Files.readString(log), 4000));
        }
        return new Run(p.exitValue(), tail(Files.readString(log, StandardCharsets.UTF_8), 20_000));
    }

    static String tail(String s, int chars) {
        return s.length() <= chars ? s : "…" + s.substring(s.length() - chars);
    }
}
