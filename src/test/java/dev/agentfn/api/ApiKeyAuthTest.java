package dev.agentfn.api;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.agentfn.standin.FakeAnthropicServer;
import dev.agentfn.standin.FakeTurn;
import dev.agentfn.testing.FakeAnthropicResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

@QuarkusTest
@TestProfile(ApiKeyAuthTest.WithKeys.class)
class ApiKeyAuthTest {
    public static class WithKeys implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("agentfn.auth.api-keys", "key-one-aaaaaaaa,key-two-bbbbbbbb");
        }
    }

    FakeAnthropicServer fake = FakeAnthropicResource.fake();

    @BeforeEach
    void reset() {
        fake.reset();
    }

    @Test
    void missingKeyIs401AndNothingRuns() {
        given().contentType("application/json").body("{\"prompt\":\"hi\"}").when().post("/v1/invocations")
                .then().statusCode(401).contentType(Problem.MEDIA_TYPE).header("WWW-Authenticate", "Bearer");
        assertEquals(0, fake.messageRequests().size());
    }

    @Test
    void wrongKeyIs401() {
        given().auth().oauth2("key-one-aaaaaaab").contentType("application/json").body("{\"prompt\":\"hi\"}")
                .when().post("/v1/invocations").then().statusCode(401).body("detail", equalTo("the API key is not valid"));
        assertEquals(0, fake.messageRequests().size());
    }

    @Test
    void anyConfiguredKeyIsAccepted() {
        fake.enqueue(FakeTurn.text("ok"));
        given().auth().oauth2("key-two-bbbbbbbb").contentType("application/json").body("{\"prompt\":\"hi\"}")
                .when().post("/v1/invocations").then().statusCode(200).body("output", equalTo("ok"));
    }

    @Test
    void healthStaysOpen() {
        given().when().get("/q/health").then().statusCode(200);
    }
}
