package dev.agentfn.conversation.claudecode;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;

import dev.agentfn.testing.FakeAnthropicResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A deployment whose CLI path points nowhere: claude-code answers 503 naming the setting; messages still works. */
@QuarkusTest
@TestProfile(ClaudeCodeCliMissingTest.NoCli.class)
class ClaudeCodeCliMissingTest {

    public static final class NoCli implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("agentfn.claude-code.cli-path", "/nonexistent/agentfn/claude");
        }
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
