package dev.agentfn.lambda;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.notNullValue;

import dev.agentfn.deploy.SamTemplate;
import dev.agentfn.standin.FakeTurn;
import dev.agentfn.testing.FakeAnthropicResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import org.junit.jupiter.api.Test;

/**
 * The EventBridge Scheduler payload of deploy/aws/template.yaml, rendered as CloudFormation would and
 * posted to the Lambda handler through Quarkus' mock event server, starts an evaluation run.
 */
@QuarkusTest
class ScheduledEvaluationEventTest {

    @Test
    void scheduleEventStartsAnEvaluation() throws Exception {
        FakeAnthropicResource.fake().reset();
        FakeAnthropicResource.fake().enqueue(FakeTurn.text("scheduled answer"));
        String request = "{\"name\":\"nightly\",\"dataset\":{\"rows\":[{\"inputs\":{\"prompt\":\"Hi\"}}]},"
                + "\"scorers\":[\"no_error\"]}";
        String event = SamTemplate.scheduledEvaluationEvent(request);
        String lambdaBody = given().port(8081).contentType("application/json").body(event)
                .when().post("/_lambda_").then().statusCode(200).body("statusCode", equalTo(202))
                .extract().path("body");
        JsonPath started = JsonPath.from(lambdaBody);
        String id = started.getString("id");
        given().when().get("/v1/evaluations/" + id).then().statusCode(200).body("run_id", notNullValue());
    }
}
