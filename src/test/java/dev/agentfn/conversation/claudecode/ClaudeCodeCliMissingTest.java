package dev.agentfn.conversation.claudecode;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.agentfn.testing.FakeAnthropicResource;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A deployment whose CLI path points nowhere: claude-code answers 503 naming the setting; messages still works.
 * Its start still removes the Claude Code directories a killed agentfn process left in the work root (issue #16).
 */
@QuarkusTest
@TestProfile(ClaudeCodeCliMissingTest.NoCli.class)
class ClaudeCodeCliMissingTest {
    static final Path WORK = Path.of("target", "claude-code-leftovers").toAbsolutePath();
    static final Path DEAD = WORK.resolve(ProcessDirectory.PREFIX + "dead");
    static final Path NOT_OURS = WORK.resolve(ProcessDirectory.PREFIX + "no-marker");

    public static final class NoCli implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("agentfn.claude-code.cli-path", "/nonexistent/agentfn/claude",
                    "agentfn.claude-code.work-root", WORK.toString());
        }

        @Override
        public List<TestResourceEntry> testResources() {
            return List.of(new TestResourceEntry(Leftovers.class));
        }
    }

    /** Before the application starts: what a killed agentfn process leaves, and a directory that is not ours. */
    public static final class Leftovers implements QuarkusTestResourceLifecycleManager {
        @Override
        public Map<String, String> start() {
            try {
                Workspace.deleteTree(WORK);
                Process p = new ProcessBuilder("sleep", "30").start();
                long started = p.toHandle().info().startInstant().orElseThrow().toEpochMilli();
                p.destroyForcibly();
                assertTrue(p.waitFor(10, TimeUnit.SECONDS));
                Path dir = ProcessDirectory.claim(WORK, new ProcessDirectory.Owner(p.pid(), started));
                Files.move(dir, DEAD);
                Workspace ws = Workspace.temporary(DEAD);
                Files.writeString(ws.config().resolve(".claude.json"), "{}");
                Files.createDirectories(NOT_OURS.resolve("work"));
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
            return Map.of();
        }

        @Override
        public void stop() {
        }
    }

    @Test
    void startRemovesWhatAKilledProcessLeftAndNothingElse() throws InterruptedException {
        // removed off the start-up path, on a thread of its own
        for (int i = 0; i < 200 && Files.exists(DEAD); i++) {
            Thread.sleep(50);
        }
        assertFalse(Files.exists(DEAD), "a dead owner's directory survived the start");
        assertTrue(Files.exists(NOT_OURS.resolve("work")), "a directory without our marker is never touched");
    }

    @Test
    void missingCliIsA503ProblemNamingTheSetting() {
        FakeAnthropicResource.fake().reset();
        given().contentType("application/json").body("{\"prompt\":\"hi\",\"engine\":\"claude-code\"}")
                .when().post("/v1/invocations").then().statusCode(503).contentType("application/problem+json")
                .body("detail", containsString("agentfn.claude-code.cli-path"))
                .body("detail", containsString("/nonexistent/agentfn/claude"))
                .body("trace_id", containsString("tr-"));
        given().contentType("application/json").body("{\"prompt\":\"hi\"}")
                .when().post("/v1/invocations").then().statusCode(200).body("engine", equalTo("messages"));
    }
}
