package dev.agentfn.gateway;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.agentfn.standin.FakeAnthropicServer;
import dev.agentfn.standin.FakeTurn;
import dev.agentfn.standin.RecordedRequest;
import dev.agentfn.testing.FakeAnthropicResource;
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
    static final String BODY = "{\"model\":\"claude-sonnet-5-5\",\"max_tokens\":10,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
    FakeAnthropicServer fake = FakeAnthropicResource.fake();

    public static class Managed implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("agentfn.gateway.enabled", "true", "agentfn.gateway.credentials", "managed",
                    "agentfn.auth.api-keys", AGENTFN_KEY);
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
}
