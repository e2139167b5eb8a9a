package dev.agentfn.lambda;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.startsWith;

import dev.agentfn.standin.FakeTurn;
import dev.agentfn.testing.FakeAnthropicResource;
import dev.agentfn.testing.MlflowServerResource;
import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * With {@code -Plambda}, Quarkus' mock event server turns these requests into API Gateway HTTP API
 * (v2) events for the Lambda handler: the same resources answer, and the trace is exported before
 * the handler returns.
 */
@QuarkusTest
class ApiGatewayTest {

    @BeforeEach
    void reset() {
        FakeAnthropicResource.fake().reset();
    }

    @Test
    void invocationThroughTheGatewayAnswersWithADeliveredTrace() {
        FakeAnthropicResource.fake().enqueue(FakeTurn.text("Hello from Lambda."));
        String traceId = given().contentType("application/json").body("{\"prompt\":\"Hi\"}")
                .when().post("/v1/invocations")
                .then().statusCode(200).body("output", equalTo("Hello from Lambda."))
                .body("trace.export", equalTo("delivered")).body("trace.id", startsWith("tr-"))
                .extract().path("trace.id");
        given().baseUri(MlflowServerResource.server().uri().toString())
                .get("/api/3.0/mlflow/traces/" + traceId).then().statusCode(200)
                .body("trace.trace_info.state", equalTo("OK"));
    }

    @Test
    void badBodyIsAProblemThroughTheGateway() {
        given().contentType("application/json").body("{\"prompt\":\"\",\"nope\":1}")
                .when().post("/v1/invocations")
                .then().statusCode(400).contentType("application/problem+json")
                .body("detail", containsString("unknown fields [nope]"));
    }

    /** Raw events posted to the mock event server, as API Gateway would send them. */
    private static io.restassured.response.ValidatableResponse rawEvent(String event) {
        return given().port(8081).contentType("application/json").body(event).when().post("/_lambda_").then();
    }

    @Test
    void handMadeHttpApiV2Event() {
        FakeAnthropicResource.fake().enqueue(FakeTurn.text("v2 ok"));
        rawEvent("""
                {"version":"2.0","routeKey":"POST /v1/invocations","rawPath":"/v1/invocations","rawQueryString":"",
                 "headers":{"content-type":"application/json"},
                 "requestContext":{"http":{"method":"POST","path":"/v1/invocations","protocol":"HTTP/1.1",
                   "sourceIp":"127.0.0.1","userAgent":"test"},"requestId":"r1","routeKey":"POST /v1/invocations",
                   "stage":"$default","timeEpoch":1700000000000},
                 "body":"{\\"prompt\\":\\"Hi v2\\"}","isBase64Encoded":false}""")
                .statusCode(200).body("statusCode", equalTo(200)).body("body", containsString("v2 ok"));
    }
}
