package dev.agentfn.lambdarest;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;

import dev.agentfn.standin.FakeTurn;
import dev.agentfn.testing.FakeAnthropicResource;
import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.Test;

/** With {@code -Plambda-rest}: API Gateway REST API (payload 1.0) events reach the same resources. */
@QuarkusTest
class RestApiTest {

    @Test
    void restApiV1EventIsAnswered() {
        FakeAnthropicResource.fake().reset();
        FakeAnthropicResource.fake().enqueue(FakeTurn.text("v1 ok"));
        given().port(8081).contentType("application/json").body("""
                {"resource":"/v1/invocations","path":"/v1/invocations","httpMethod":"POST",
                 "headers":{"content-type":"application/json"},"multiValueHeaders":{"content-type":["application/json"]},
                 "queryStringParameters":null,"requestContext":{"resourcePath":"/v1/invocations","httpMethod":"POST",
                   "path":"/prod/v1/invocations","stage":"prod","requestId":"r2","identity":{"sourceIp":"127.0.0.1"}},
                 "body":"{\\"prompt\\":\\"Hi v1\\"}","isBase64Encoded":false}""")
                .when().post("/_lambda_").then().statusCode(200)
                .body("statusCode", equalTo(200)).body("body", containsString("v1 ok"))
                .body("body", containsString("\"export\":\"delivered\""));
    }

    @Test
    void gatewayRequestsAreAnsweredToo() {
        given().contentType("application/json").body("{}").when().post("/v1/invocations")
                .then().statusCode(400).contentType("application/problem+json");
    }
}
