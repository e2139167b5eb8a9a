package dev.agentfn.api;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.notNullValue;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.agentfn.standin.FakeAnthropicServer;
import dev.agentfn.standin.FakeTurn;
import dev.agentfn.testing.FakeAnthropicResource;
import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

@QuarkusTest
class InvocationBasicsTest {
    FakeAnthropicServer fake = FakeAnthropicResource.fake();

    @BeforeEach
    void reset() {
        fake.reset();
    }

    @Test
    void plainAnswer() {
        fake.enqueue(FakeTurn.text("Paris is the capital of France.").withUsage(12, 7, 3, 2));
        given().contentType("application/json").body("{\"prompt\":\"Capital of France?\"}")
                .when().post("/v1/invocations")
                .then().statusCode(200)
                .body("output", equalTo("Paris is the capital of France."))
                .body("stop_reason", equalTo("end_turn"))
                .body("turns", equalTo(1))
                .body("usage.input_tokens", equalTo(12))
                .body("usage.output_tokens", equalTo(7))
                .body("usage.cache_read_input_tokens", equalTo(3))
                .body("usage.cache_creation_input_tokens", equalTo(2))
                .body("trace.id", notNullValue());
        assertEquals(1, fake.messageRequests().size());
        var sent = fake.messageRequests().get(0);
        assertEquals(FakeAnthropicResource.TEST_API_KEY, sent.header("x-api-key"));
        assertEquals("2023-06-01", sent.header("anthropic-version"));
        assertEquals(true, sent.json().get("stream").asBoolean());
        assertEquals("Capital of France?", sent.json().at("/messages/0/content").asText());
    }

    @Test
    void metricsCountInvocationsTokensCostAndUpstreamErrorsByModel() {
        fake.enqueue(FakeTurn.text("counted").withUsage(100, 10, 0, 0), FakeTurn.error(400));
        given().contentType("application/json").body("{\"prompt\":\"count me\"}").when().post("/v1/invocations")
                .then().statusCode(200);
        given().contentType("application/json").body("{\"prompt\":\"fail me\"}").when().post("/v1/invocations")
                .then().statusCode(502);
        String metrics = given().when().get("/q/metrics").then().statusCode(200).extract().asString();
        assertTrue(metrics.contains("agentfn_invocations_total{engine=\"messages\",model=\"claude-sonnet-5-5\",outcome=\"success\"}"), metrics);
        assertTrue(metrics.contains("agentfn_tokens_total{engine=\"messages\",model=\"claude-sonnet-5-5\",type=\"input\"}"));
        assertTrue(metrics.contains("agentfn_cost_usd_total{engine=\"messages\",model=\"claude-sonnet-5-5\"}"));
        assertTrue(metrics.contains("agentfn_upstream_errors_total{engine=\"messages\",model=\"claude-sonnet-5-5\",status=\"502\",type=\"invalid_request_error\"}"), metrics);
        assertTrue(metrics.contains("agentfn_invocation_duration_seconds_bucket"));
    }

    @Test
    void openApiDescribesTheInvocationEndpoint() {
        given().when().get("/q/openapi?format=json").then().statusCode(200)
                .body("paths.'/v1/invocations'.post.summary", equalTo("Run an agent conversation"));
    }
}
