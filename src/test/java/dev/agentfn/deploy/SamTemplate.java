package dev.agentfn.deploy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/** Reads what the SAM template would send, so tests can replay it against the function. */
public final class SamTemplate {
    private SamTemplate() {
    }

    /**
     * The event the evaluation schedule delivers, as CloudFormation would render it: the
     * {@code Fn::Sub} template of the schedule's Input with {@code Body} = base64 of the given request.
     */
    public static String scheduledEvaluationEvent(String evaluationRequest) throws IOException {
        Map<String, Object> resources = DeployDescriptorsTest.asMap(DeployDescriptorsTest.load(DeployDescriptorsTest.SAM)
                .get("Resources"));
        Map<String, Object> schedule = DeployDescriptorsTest.asMap(resources.get("EvaluationSchedule"));
        Object sub = DeployDescriptorsTest.get(schedule, "Properties", "Target", "Input", "Fn::Sub");
        if (!(sub instanceof List<?> parts) || parts.size() != 2) {
            throw new IllegalStateException("the schedule's Input is not !Sub [template, {Body: ...}]: " + sub);
        }
        String body = Base64.getEncoder().encodeToString(evaluationRequest.getBytes(StandardCharsets.UTF_8));
        return ((String) parts.get(0)).replace("${Body}", body);
    }

    /** The default of a template parameter. */
    public static String parameterDefault(String name) throws IOException {
        Map<String, Object> params = DeployDescriptorsTest.asMap(DeployDescriptorsTest.load(DeployDescriptorsTest.SAM)
                .get("Parameters"));
        return String.valueOf(DeployDescriptorsTest.get(DeployDescriptorsTest.asMap(params.get(name)), "Default"));
    }
}
