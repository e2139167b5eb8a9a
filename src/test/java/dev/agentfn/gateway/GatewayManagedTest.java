package dev.agentfn.gateway;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.agentfn.standin.FakeAnthropicServer;
import dev.agentfn.standin.FakeTurn;
import dev.agentfn.standin.RecordedRequest;
import com.fasterxml.jackson.databind.JsonNode;
import dev.agentfn.testing.FakeAnthropicResource;
import dev.agentfn.testing.MlflowPython;
import dev.agentfn.testing.MlflowServerResource;
import java.util.UUID;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Managed credentials: callers present an agentfn API key, the deployment's Anthropic key goes upstream, and
 * neither key appears in an answer; without a valid agentfn key the gateway answers 401 in Anthropic's shape.
 */
@QuarkusTest
@TestProfile(GatewayManagedTest.Managed.class)
class GatewayManagedTest {
    static final String AGENTFN_KEY = "agentfn-gateway-key-0123456789";
    static final String ALICES_KEY = "agentfn-key-of-alice-9876543210";
    static final String BODY = "{\"model\":\"claude-sonnet-5-5\",\"max_tokens\":10,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
    FakeAnthropicServer fake = FakeAnthropicResource.fake();
    MlflowPython mlflow = new MlflowPython(MlflowServerResource.server());

    public static class Managed implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("agentfn.gateway.enabled", "true", "agentfn.gateway.credentials", "managed",
                    "agentfn.auth.api-keys", AGENTFN_KEY, "agentfn.auth.users.alice", ALICES_KEY);
        }
    }

    @BeforeEach
    void reset() {
        fake.reset();
    }

    @Test
    void withoutAValidAgentfnKeyTheGatewayRefusesInAnthropicsShapeAndCallsNothing() {
        given().contentType("application/json").body(BODY).when().post("/v1/messages").then().statusCode(401)
                .contentType("application/json").body("type", equalTo("error"))
                .body("error.type", equalTo("authentication_error"));
        String body = given().contentType("application/json").header("x-api-key", "not-a-key").body(BODY).when()
                .post("/v1/messages").then().statusCode(401).body("error.message", equalTo("the API key is not valid"))
                .extract().asString();
        assertFalse(body.contains("not-a-key"), "the presented key is not echoed");
        assertEquals(0, fake.messageRequests().size(), "nothing went upstream");
    }

    @Test
    void theDeploymentsKeyGoesUpstreamInsteadOfTheCallers() {
        fake.enqueue(FakeTurn.text("managed answer"));
        String body = given().contentType("application/json").header("authorization", "Bearer " + AGENTFN_KEY)
                .header("anthropic-version", "2023-06-01").body(BODY)
                .when().post("/v1/messages").then().statusCode(200).body("content[0].text", equalTo("managed answer"))
                .extract().asString();
        assertFalse(body.contains(AGENTFN_KEY) || body.contains(FakeAnthropicResource.TEST_API_KEY));
        RecordedRequest sent = fake.messageRequests().get(0);
        assertTrue(sent.headers().values().stream().noneMatch(v -> v.contains(AGENTFN_KEY)),
                "the agentfn key never goes upstream");
        assertTrue(sent.header("authorization") == null, "the caller's bearer was replaced by the deployment's x-api-key");
    }

    @Test
    void aNamedKeysUserIsTheTracesUserWhateverTheRequestClaims() {
        String marker = "named-" + UUID.randomUUID();
        fake.enqueue(FakeTurn.text("hello alice"));
        given().contentType("application/json").header("x-api-key", ALICES_KEY).header("anthropic-version", "2023-06-01")
                .header("x-agentfn-user", "mallory")
                .body("{\"model\":\"claude-sonnet-5-5\",\"max_tokens\":10,\"metadata\":{\"user_id\":\"mallory\"},"
                        + "\"messages\":[{\"role\":\"user\",\"content\":\"" + marker + "\"}]}")
                .when().post("/v1/messages").then().statusCode(200).body("content[0].text", equalTo("hello alice"));
        assertFalse(fake.messageRequests().get(0).headers().values().stream().anyMatch(v -> v.contains(ALICES_KEY)),
                "the named key never goes upstream");
        JsonNode found = mlflow.json("""
                import mlflow, json, time
                for _ in range(100):
                    found = mlflow.search_traces(experiment_ids=[e.experiment_id for e in mlflow.search_experiments()],
                                                 return_type="list", max_results=50)
                    mine = [t for t in found if "%s" in (t.info.request_preview or "")]
                    if mine:
                        break
                    time.sleep(0.1)
                print(json.dumps([{"user": t.info.trace_metadata.get("mlflow.trace.user"), "json": t.to_json()} for t in mine]))
                """.formatted(marker));
        assertEquals(1, found.size(), found.toString());
        assertEquals("alice", found.get(0).get("user").asText(), "the key's user, not the header's or the body's");
        assertFalse(found.get(0).get("json").asText().contains(ALICES_KEY), "the key is in no trace");
    }
}
