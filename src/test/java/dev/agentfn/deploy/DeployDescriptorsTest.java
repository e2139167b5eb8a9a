package dev.agentfn.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.agentfn.config.AgentfnConfig;
import io.smallrye.config.WithName;
import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.AbstractConstruct;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;

/**
 * Checks the deployment descriptors under {@code deploy/} against what the application actually reads, with
 * no platform and no Quarkus: the Knative and Cloud Run services (kind, image, probes on /q/health, env var
 * names the application knows, credentials only from secret references that docs/deploy.md creates,
 * scale-to-zero) and the SAM template (the function, the HTTP API route, the schedule, timeouts, no
 * plaintext secrets). YAML is read with SnakeYAML (a test dependency); CloudFormation's short tags (!Ref, !Sub, ...) become the
 * long-form maps ({"Ref": ...}, {"Fn::Sub": ...}).
 *
 * <p>Each check returns a list of problems; the tests at the bottom feed deliberately broken copies to show
 * the checks can fail.
 */
class DeployDescriptorsTest {

    static final Path ROOT = Path.of(System.getProperty("basedir", System.getProperty("user.dir")));
    static final Path KNATIVE = ROOT.resolve("deploy/knative/service.yaml");
    static final Path CLOUD_RUN = ROOT.resolve("deploy/cloudrun/service.yaml");
    static final Path SAM = ROOT.resolve("deploy/aws/template.yaml");
    static final Path GUIDE = ROOT.resolve("docs/deploy.md");

    /** Settings that hold credentials: only ever from a secret store. */
    static final Set<String> CREDENTIALS = Set.of("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "MLFLOW_TRACKING_TOKEN",
            "MLFLOW_TRACKING_PASSWORD", "DATABRICKS_TOKEN", "AGENTFN_AUTH_API_KEYS");

    /** Variables the Lambda template sets for the platform rather than for agentfn. */
    static final Set<String> LAMBDA_PLATFORM_VARS = Set.of("DISABLE_SIGNAL_HANDLERS", "JAVA_TOOL_OPTIONS", "SECRETS_REVISION");

    static final String HEALTH_LIVE = "/q/health/live";
    static final String HEALTH_READY = "/q/health/ready";

    /** Key shapes that must never appear in a descriptor (built so that no scanner flags this file). */
    static final Pattern KEY_SHAPES = Pattern.compile(String.join("|",
            "sk-" + "ant-[A-Za-z0-9_-]{10,}", "dapi[0-9a-f]{32}", "AKIA[0-9A-Z]{16}", "gh[pousr]_[A-Za-z0-9]{20,}",
            "-----BEGIN [A-Z ]*PRIVATE KEY-----"));

    static final long TRACE_EXPORT_WAIT_SECONDS = 2; // agentfn.tracing.export-timeout default

    enum Platform {
        KNATIVE("autoscaling.knative.dev/min-scale", "autoscaling.knative.dev/max-scale"),
        CLOUD_RUN("autoscaling.knative.dev/minScale", "autoscaling.knative.dev/maxScale");

        final String minScale;
        final String maxScale;

        Platform(String minScale, String maxScale) {
            this.minScale = minScale;
            this.maxScale = maxScale;
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // The tests on the real files

    @Test
    void knativeServiceIsComplete() throws IOException {
        assertNoProblems(serviceProblems(load(KNATIVE), Platform.KNATIVE, guide()));
    }

    @Test
    void cloudRunServiceIsComplete() throws IOException {
        assertNoProblems(serviceProblems(load(CLOUD_RUN), Platform.CLOUD_RUN, guide()));
    }

    @Test
    void samTemplateIsComplete() throws IOException {
        assertNoProblems(samProblems(load(SAM)));
    }

    @Test
    void noDescriptorContainsAKeyShapedString() throws IOException {
        for (Path p : List.of(KNATIVE, CLOUD_RUN, SAM)) {
            assertFalse(KEY_SHAPES.matcher(Files.readString(p)).find(), p + " contains a key-shaped string");
        }
    }

    @Test
    void knownSettingsAreReadFromTheApplication() {
        Set<String> known = knownEnvVars();
        // Spot checks that the reflection over AgentfnConfig and application.properties works at all.
        for (String v : List.of("AGENTFN_INVOCATION_DEADLINE", "AGENTFN_AUTH_API_KEYS", "AGENTFN_TRACING_SPOOL_DIRECTORY",
                "AGENTFN_TRACING_EXPORT_TIMEOUT", "ANTHROPIC_API_KEY", "MLFLOW_TRACKING_URI", "DATABRICKS_TOKEN", "PORT")) {
            assertTrue(known.contains(v), v + " missing from " + known);
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // The same checks, shown to fail on broken copies

    @Test
    void rejectsAServiceWithoutReadinessProbe() throws IOException {
        Map<String, Object> doc = load(KNATIVE);
        container(doc).remove("readinessProbe");
        assertHasProblem(serviceProblems(doc, Platform.KNATIVE, guide()), "readinessProbe");
    }

    @Test
    void rejectsAProbeOffTheHealthPaths() throws IOException {
        Map<String, Object> doc = load(CLOUD_RUN);
        map(map(container(doc), "livenessProbe"), "httpGet").put("path", "/healthz");
        assertHasProblem(serviceProblems(doc, Platform.CLOUD_RUN, guide()), "livenessProbe");
    }

    @Test
    void rejectsAnEnvVarTheApplicationDoesNotKnow() throws IOException {
        Map<String, Object> doc = load(KNATIVE);
        env(doc).add(new LinkedHashMap<>(Map.of("name", "AGENTFN_INVOCATION_DEADLNE", "value", "30s")));
        assertHasProblem(serviceProblems(doc, Platform.KNATIVE, guide()), "AGENTFN_INVOCATION_DEADLNE");
    }

    @Test
    void rejectsAPlaintextCredentialInAService() throws IOException {
        Map<String, Object> doc = load(CLOUD_RUN);
        for (Map<String, Object> e : env(doc)) {
            if ("ANTHROPIC_API_KEY".equals(e.get("name"))) {
                e.remove("valueFrom");
                e.put("value", "plaintext-not-from-a-secret");
            }
        }
        assertHasProblem(serviceProblems(doc, Platform.CLOUD_RUN, guide()), "ANTHROPIC_API_KEY");
    }

    @Test
    void rejectsASecretReferenceTheGuideDoesNotCreate() throws IOException {
        Map<String, Object> doc = load(KNATIVE);
        for (Map<String, Object> e : env(doc)) {
            if ("AGENTFN_AUTH_API_KEYS".equals(e.get("name"))) {
                map(map(e, "valueFrom"), "secretKeyRef").put("key", "no-such-key");
            }
        }
        assertHasProblem(serviceProblems(doc, Platform.KNATIVE, guide()), "no-such-key");
    }

    @Test
    void rejectsAServiceThatNeverScalesToZero() throws IOException {
        Map<String, Object> doc = load(CLOUD_RUN);
        annotations(doc).put(Platform.CLOUD_RUN.minScale, "1");
        assertHasProblem(serviceProblems(doc, Platform.CLOUD_RUN, guide()), "scale");
    }

    @Test
    void rejectsATimeoutShorterThanTheDeadline() throws IOException {
        Map<String, Object> doc = load(KNATIVE);
        map(map(map(doc, "spec"), "template"), "spec").put("timeoutSeconds", 60);
        assertHasProblem(serviceProblems(doc, Platform.KNATIVE, guide()), "timeoutSeconds");
    }

    @Test
    void rejectsATemplateWithAPlaintextSecret() throws IOException {
        Map<String, Object> doc = load(SAM);
        Map<String, Object> vars = map(map(map(map(doc, "Globals"), "Function"), "Environment"), "Variables");
        vars.put("MLFLOW_TRACKING_TOKEN", "plaintext-not-from-a-secret");
        assertHasProblem(samProblems(doc), "MLFLOW_TRACKING_TOKEN");
    }

    @Test
    void rejectsACredentialPassedAsAPlainParameter() throws IOException {
        Map<String, Object> doc = load(SAM);
        Map<String, Object> vars = map(map(map(map(doc, "Globals"), "Function"), "Environment"), "Variables");
        vars.put("ANTHROPIC_API_KEY", new LinkedHashMap<>(Map.of("Ref", "AnthropicApiKeySecret")));
        assertHasProblem(samProblems(doc), "ANTHROPIC_API_KEY");
    }

    @Test
    void rejectsATemplateWithoutTheInvocationsRoute() throws IOException {
        Map<String, Object> doc = load(SAM);
        map(map(map(doc, "Resources"), "InvocationsRoute"), "Properties").put("RouteKey", "ANY /{proxy+}");
        assertHasProblem(samProblems(doc), "POST /v1/invocations");
    }

    @Test
    void rejectsATemplateWithoutTheSchedule() throws IOException {
        Map<String, Object> doc = load(SAM);
        map(doc, "Resources").remove("EvaluationSchedule");
        assertHasProblem(samProblems(doc), "AWS::Scheduler::Schedule");
    }

    @Test
    void rejectsAGatewayTimeoutAboveThirtySeconds() throws IOException {
        Map<String, Object> doc = load(SAM);
        map(map(map(doc, "Resources"), "HttpApiIntegration"), "Properties").put("TimeoutInMillis", 60000);
        assertHasProblem(samProblems(doc), "TimeoutInMillis");
    }

    @Test
    void rejectsAKeyShapedString() {
        String key = "sk-" + "ant-" + "x".repeat(24);
        assertTrue(KEY_SHAPES.matcher("ANTHROPIC_API_KEY: " + key).find());
    }

    // ---------------------------------------------------------------------------------------------------------
    // Knative / Cloud Run

    static List<String> serviceProblems(Map<String, Object> doc, Platform platform, String guide) {
        List<String> problems = new ArrayList<>();
        Set<String> known = knownEnvVars();
        check(problems, "serving.knative.dev/v1".equals(doc.get("apiVersion")), "apiVersion must be serving.knative.dev/v1");
        check(problems, "Service".equals(doc.get("kind")), "kind must be Service");
        check(problems, notBlank(get(doc, "metadata", "name")), "metadata.name missing");

        Map<String, Object> template = asMap(get(doc, "spec", "template"));
        if (template == null) {
            problems.add("spec.template missing");
            return problems;
        }
        Map<String, Object> ann = asMap(get(template, "metadata", "annotations"));
        ann = ann == null ? Map.of() : ann;
        check(problems, "0".equals(String.valueOf(ann.get(platform.minScale))),
                "scale to zero: " + platform.minScale + " must be \"0\", is " + ann.get(platform.minScale));
        check(problems, positiveInt(ann.get(platform.maxScale)), "scale: " + platform.maxScale + " must be a positive number");

        Map<String, Object> spec = asMap(template.get("spec"));
        spec = spec == null ? Map.of() : spec;
        check(problems, positiveInt(spec.get("containerConcurrency")), "containerConcurrency must be a positive number");
        check(problems, positiveInt(spec.get("timeoutSeconds")), "timeoutSeconds must be a positive number");

        List<Object> containers = asList(spec.get("containers"));
        if (containers == null || containers.size() != 1) {
            problems.add("exactly one container expected");
            return problems;
        }
        Map<String, Object> c = asMap(containers.get(0));
        check(problems, notBlank(c.get("image")), "container image missing");
        probe(problems, c, "livenessProbe", HEALTH_LIVE);
        probe(problems, c, "readinessProbe", HEALTH_READY);
        if (c.containsKey("startupProbe")) {
            Object p = get(c, "startupProbe", "httpGet", "path");
            check(problems, p instanceof String s && s.startsWith("/q/health"), "startupProbe must probe /q/health/*, probes " + p);
        }

        Map<String, Map<String, Object>> env = new LinkedHashMap<>();
        List<Object> envList = asList(c.get("env"));
        for (Object o : envList == null ? List.of() : envList) {
            Map<String, Object> e = asMap(o);
            String name = String.valueOf(e.get("name"));
            check(problems, env.put(name, e) == null, "env " + name + " set twice");
            check(problems, !"PORT".equals(name), "env PORT is set by the platform from containerPort; do not set it");
            check(problems, known.contains(name), "env " + name + " is not a setting agentfn reads");
            Object ref = get(e, "valueFrom", "secretKeyRef");
            if (CREDENTIALS.contains(name)) {
                check(problems, ref != null && !e.containsKey("value"), "env " + name + " is a credential: use valueFrom.secretKeyRef, not value");
            }
            if (ref != null) {
                secretRef(problems, name, asMap(ref), platform, guide);
            }
        }
        check(problems, env.containsKey("ANTHROPIC_API_KEY") || env.containsKey("ANTHROPIC_AUTH_TOKEN"),
                "no Anthropic credential (ANTHROPIC_API_KEY or ANTHROPIC_AUTH_TOKEN)");
        check(problems, env.containsKey("MLFLOW_TRACKING_URI"), "MLFLOW_TRACKING_URI missing: tracing would be off");
        check(problems, env.containsKey("AGENTFN_TRACING_SPOOL_DIRECTORY"), "AGENTFN_TRACING_SPOOL_DIRECTORY missing");

        Duration deadline = Optional.ofNullable(env.get("AGENTFN_INVOCATION_DEADLINE")).map(e -> String.valueOf(e.get("value")))
                .map(DeployDescriptorsTest::duration).orElse(Duration.ofSeconds(25));
        if (positiveInt(spec.get("timeoutSeconds"))) {
            long timeout = ((Number) spec.get("timeoutSeconds")).longValue();
            check(problems, timeout > deadline.toSeconds() + TRACE_EXPORT_WAIT_SECONDS,
                    "timeoutSeconds " + timeout + " must exceed the invocation deadline " + deadline + " + the trace export wait");
        }
        return problems;
    }

    static void probe(List<String> problems, Map<String, Object> container, String kind, String path) {
        Object p = get(container, kind, "httpGet", "path");
        check(problems, path.equals(p), kind + " must be an httpGet on " + path + ", is " + (p == null ? "missing" : p));
    }

    static void secretRef(List<String> problems, String env, Map<String, Object> ref, Platform platform, String guide) {
        String name = String.valueOf(ref.get("name"));
        String key = String.valueOf(ref.get("key"));
        check(problems, notBlank(ref.get("name")) && notBlank(ref.get("key")), "env " + env + ": secretKeyRef needs name and key");
        if (platform == Platform.KNATIVE) {
            Set<String> created = kubectlSecretKeys(guide, name);
            check(problems, created.contains(key), "env " + env + ": secret " + name + " key " + key
                    + " is not created by docs/deploy.md's `kubectl create secret generic " + name + "` (creates " + created + ")");
        } else {
            check(problems, key.equals("latest") || key.matches("\\d+"), "env " + env + ": Secret Manager version must be latest or a number, is " + key);
            check(problems, guide.contains("gcloud secrets create " + name + " "),
                    "env " + env + ": secret " + name + " is not created in docs/deploy.md (gcloud secrets create " + name + ")");
        }
    }

    /** The keys {@code kubectl create secret generic NAME --from-file=KEY=...} in the guide creates. */
    static Set<String> kubectlSecretKeys(String guide, String secret) {
        Set<String> keys = new TreeSet<>();
        String joined = guide.replace("\\\n", " ");
        Matcher cmd = Pattern.compile("kubectl create secret generic " + Pattern.quote(secret) + "\\s([^\\n]*)").matcher(joined);
        while (cmd.find()) {
            Matcher key = Pattern.compile("--from-(?:file|literal)=([A-Za-z0-9._-]+)=").matcher(cmd.group(1));
            while (key.find()) {
                keys.add(key.group(1));
            }
        }
        return keys;
    }

    // ---------------------------------------------------------------------------------------------------------
    // SAM

    static List<String> samProblems(Map<String, Object> doc) {
        List<String> problems = new ArrayList<>();
        check(problems, String.valueOf(doc.get("Transform")).contains("AWS::Serverless-2016-10-31"), "not a SAM template (Transform)");
        Map<String, Object> params = orEmpty(asMap(doc.get("Parameters")));
        Map<String, Object> resources = orEmpty(asMap(doc.get("Resources")));
        Map<String, Object> globals = orEmpty(asMap(get(doc, "Globals", "Function")));

        // The functions.
        Map<String, Map<String, Object>> functions = byType(resources, "AWS::Serverless::Function");
        List<Object> runtimes = new ArrayList<>();
        functions.values().forEach(f -> runtimes.add(get(f, "Properties", "Runtime")));
        check(problems, runtimes.contains("provided.al2023"), "no native function on provided.al2023 (runtimes: " + runtimes + ")");
        // The JVM function's Runtime is a java* string or a !Ref to a parameter of java* values.
        Map<String, Object> jvm = functions.values().stream()
                .filter(f -> get(f, "Properties", "Runtime") instanceof Map || String.valueOf(get(f, "Properties", "Runtime")).startsWith("java"))
                .findFirst().orElse(null);
        check(problems, jvm != null, "no JVM function");
        if (jvm != null) {
            Object runtime = get(jvm, "Properties", "Runtime");
            Set<String> javas = runtime instanceof String s ? Set.of(s) : allowedValues(params, runtime);
            check(problems, !javas.isEmpty() && Set.of("java17", "java21").containsAll(javas), "JVM runtimes must be java17/java21, are " + javas);
            check(problems, get(jvm, "Properties", "SnapStart") != null, "JVM function without a SnapStart setting");
        }
        Set<String> archs = new TreeSet<>();
        List<Object> archList = asList(globals.get("Architectures"));
        for (Object a : archList == null ? List.of() : archList) {
            archs.addAll(a instanceof String s ? Set.of(s) : allowedValues(params, a));
        }
        check(problems, archs.equals(Set.of("arm64", "x86_64")), "Architectures must offer arm64 and x86_64, offers " + archs);
        check(problems, globals.get("ReservedConcurrentExecutions") != null, "no reserved concurrency");
        // `sam package` uploads every function's CodeUri regardless of Conditions: one path for all variants.
        Set<Object> codeUris = new LinkedHashSet<>();
        functions.values().forEach(f -> codeUris.add(get(f, "Properties", "CodeUri")));
        check(problems, codeUris.size() == 1 && String.valueOf(codeUris.iterator().next()).endsWith("target/lambda/function.zip"),
                "all function variants must share the CodeUri target/lambda/function.zip (native/lambda/package.sh), have " + codeUris);

        // Environment: names, secrets, spool.
        List<Map<String, Object>> envMaps = new ArrayList<>();
        Optional.ofNullable(asMap(get(globals, "Environment", "Variables"))).ifPresent(envMaps::add);
        functions.values().forEach(f -> Optional.ofNullable(asMap(get(f, "Properties", "Environment", "Variables"))).ifPresent(envMaps::add));
        Set<String> known = knownEnvVars();
        Map<String, Object> allEnv = new LinkedHashMap<>();
        for (Map<String, Object> vars : envMaps) {
            allEnv.putAll(vars);
        }
        for (Map.Entry<String, Object> e : allEnv.entrySet()) {
            String name = e.getKey();
            check(problems, known.contains(name) || LAMBDA_PLATFORM_VARS.contains(name), "env " + name + " is not a setting agentfn reads");
            if (CREDENTIALS.contains(name)) {
                // Each possible value (both branches of an Fn::If) is "unset" or a dynamic reference to the
                // secret a parameter names; never a literal, a plain !Ref or a parameter holding the value.
                List<String> outcomes = new ArrayList<>();
                outcomes(e.getValue(), outcomes::add);
                long refs = outcomes.stream().filter(o -> {
                    Matcher m = DYNAMIC_REFERENCE.matcher(o);
                    return m.matches() && params.containsKey(m.group(1));
                }).count();
                long unset = outcomes.stream().filter("Ref:AWS::NoValue"::equals).count();
                check(problems, refs > 0 && refs + unset == outcomes.size(),
                        "env " + name + " is a credential: only {{resolve:secretsmanager:${<Parameter>}}} dynamic references, found " + outcomes);
            }
        }
        for (String c : List.of("ANTHROPIC_API_KEY", "AGENTFN_AUTH_API_KEYS", "MLFLOW_TRACKING_URI")) {
            check(problems, allEnv.containsKey(c), "env " + c + " missing");
        }
        check(problems, "/tmp/agentfn-spool".equals(allEnv.get("AGENTFN_TRACING_SPOOL_DIRECTORY")),
                "AGENTFN_TRACING_SPOOL_DIRECTORY must be /tmp/agentfn-spool (only /tmp is writable on Lambda)");
        for (Map.Entry<String, Object> p : params.entrySet()) {
            if (p.getKey().endsWith("Secret")) {
                Object def = get(asMap(p.getValue()), "Default");
                check(problems, def == null || String.valueOf(def).matches("[A-Za-z0-9/_+=.@:-]{0,200}") && !KEY_SHAPES.matcher(String.valueOf(def)).find(),
                        "parameter " + p.getKey() + " must name a secret, not hold one");
            }
        }

        // The HTTP API: POST /v1/invocations and GET /q/health on an integration the gateway can wait for.
        Map<String, Map<String, Object>> routes = byType(resources, "AWS::ApiGatewayV2::Route");
        Map<String, Object> invoke = routes.values().stream().filter(r -> "POST /v1/invocations".equals(get(r, "Properties", "RouteKey")))
                .findFirst().orElse(null);
        check(problems, invoke != null, "no HTTP API route POST /v1/invocations");
        check(problems, routes.values().stream().anyMatch(r -> "GET /q/health".equals(get(r, "Properties", "RouteKey"))
                && "NONE".equals(get(r, "Properties", "AuthorizationType"))), "no open HTTP API route GET /q/health");
        Duration deadline = duration(String.valueOf(get(asMap(params.get("InvocationDeadline")), "Default")));
        for (Map.Entry<String, Map<String, Object>> i : byType(resources, "AWS::ApiGatewayV2::Integration").entrySet()) {
            Object t = get(i.getValue(), "Properties", "TimeoutInMillis");
            check(problems, t instanceof Number n && n.intValue() <= 30_000, i.getKey() + ": TimeoutInMillis must be at most 30000 (HTTP API), is " + t);
            check(problems, "2.0".equals(String.valueOf(get(i.getValue(), "Properties", "PayloadFormatVersion"))),
                    i.getKey() + ": PayloadFormatVersion must be 2.0 (what quarkus-amazon-lambda-http reads)");
            if (t instanceof Number n) {
                check(problems, deadline.toMillis() + TRACE_EXPORT_WAIT_SECONDS * 1000 < n.longValue(),
                        "InvocationDeadline " + deadline + " + trace export wait must stay below TimeoutInMillis " + n);
            }
        }
        if (invoke != null) {
            Object target = get(invoke, "Properties", "Target", "Fn::Sub");
            String integration = target == null ? "" : String.valueOf(target).replaceAll(".*\\$\\{([A-Za-z0-9]+)}.*", "$1");
            check(problems, "AWS::ApiGatewayV2::Integration".equals(get(asMap(resources.get(integration)), "Type")),
                    "POST /v1/invocations must target an integration, targets " + target);
        }
        long functionTimeout = ((Number) orEmpty(asMap(params.get("FunctionTimeout"))).getOrDefault("Default", 0)).longValue();
        check(problems, functionTimeout > deadline.toSeconds() + TRACE_EXPORT_WAIT_SECONDS,
                "FunctionTimeout default " + functionTimeout + " must exceed InvocationDeadline + trace export wait");

        // The schedule and its payload.
        Map<String, Map<String, Object>> schedules = byType(resources, "AWS::Scheduler::Schedule");
        check(problems, !schedules.isEmpty(), "no AWS::Scheduler::Schedule for the batch evaluation");
        for (Map.Entry<String, Map<String, Object>> s : schedules.entrySet()) {
            String json = String.valueOf(scheduleEventTemplate(s.getValue()));
            try {
                JsonNode payload = new ObjectMapper().readTree(json.replaceAll("\\$\\{[^}]+}", "x"));
                check(problems, "2.0".equals(payload.path("version").asText())
                                && "POST /v1/evaluations".equals(payload.path("routeKey").asText())
                                && "/v1/evaluations".equals(payload.path("rawPath").asText())
                                && "POST".equals(payload.at("/requestContext/http/method").asText()),
                        s.getKey() + ": payload must be an HTTP API event for POST /v1/evaluations, is " + json);
            } catch (IOException e) {
                problems.add(s.getKey() + ": payload is not JSON: " + json);
            }
            check(problems, get(s.getValue(), "Properties", "Target", "RoleArn") != null, s.getKey() + ": no RoleArn");
        }
        return problems;
    }

    static Map<String, Map<String, Object>> byType(Map<String, Object> resources, String type) {
        Map<String, Map<String, Object>> out = new LinkedHashMap<>();
        resources.forEach((k, v) -> {
            if (type.equals(get(asMap(v), "Type"))) {
                out.put(k, asMap(v));
            }
        });
        return out;
    }

    /** The AllowedValues of the parameter a {"Ref": P} points at. */
    static Set<String> allowedValues(Map<String, Object> params, Object ref) {
        Object p = get(asMap(ref), "Ref");
        List<Object> allowed = asList(get(asMap(params.get(String.valueOf(p))), "AllowedValues"));
        Set<String> out = new TreeSet<>();
        if (allowed != null) {
            allowed.forEach(a -> out.add(String.valueOf(a)));
        }
        return out;
    }

    static final Pattern DYNAMIC_REFERENCE = Pattern.compile("\\{\\{resolve:secretsmanager:\\$\\{([A-Za-z0-9]+)}}}");

    /**
     * The values an environment variable can take: a literal as itself, {@code Fn::Sub} as its template,
     * {@code Ref} as "Ref:target", {@code Fn::If} as the outcomes of both branches; anything else as its text.
     */
    static void outcomes(Object value, Consumer<String> sink) {
        Map<String, Object> m = asMap(value);
        if (m == null || m.size() != 1) {
            sink.accept(String.valueOf(value));
        } else if (m.containsKey("Fn::If") && asList(m.get("Fn::If")) != null && asList(m.get("Fn::If")).size() == 3) {
            outcomes(asList(m.get("Fn::If")).get(1), sink);
            outcomes(asList(m.get("Fn::If")).get(2), sink);
        } else if (m.containsKey("Fn::Sub")) {
            Object t = m.get("Fn::Sub");
            sink.accept(String.valueOf(t instanceof List<?> l ? l.get(0) : t));
        } else if (m.containsKey("Ref")) {
            sink.accept("Ref:" + m.get("Ref"));
        } else {
            sink.accept(String.valueOf(value));
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // What the application reads

    /**
     * The environment variables agentfn reads: every {@code agentfn.*} property of {@link AgentfnConfig} in its
     * environment-variable form, and every {@code ${VAR:...}} that application.properties maps.
     */
    static Set<String> knownEnvVars() {
        Set<String> props = new TreeSet<>();
        collectProperties(AgentfnConfig.class, "agentfn", props);
        Set<String> out = new TreeSet<>();
        for (String p : props) {
            out.add(p.replaceAll("[^A-Za-z0-9]", "_").toUpperCase(Locale.ROOT));
        }
        try (InputStream in = DeployDescriptorsTest.class.getResourceAsStream("/application.properties")) {
            String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            Matcher m = Pattern.compile("\\$\\{([A-Z][A-Z0-9_]*)(?::[^}]*)?}").matcher(text);
            while (m.find()) {
                out.add(m.group(1));
            }
        } catch (IOException | NullPointerException e) {
            throw new AssertionError("application.properties not on the test classpath", e);
        }
        return out;
    }

    static void collectProperties(Class<?> group, String prefix, Set<String> out) {
        for (Method m : group.getDeclaredMethods()) {
            if (m.getParameterCount() != 0 || m.isDefault() || Modifier.isStatic(m.getModifiers()) || m.isSynthetic()) {
                continue;
            }
            WithName withName = m.getAnnotation(WithName.class);
            String path = prefix + "." + (withName != null ? withName.value() : kebab(m.getName()));
            Class<?> type = m.getReturnType();
            Type generic = m.getGenericReturnType();
            if (type == Optional.class && generic instanceof ParameterizedType pt && pt.getActualTypeArguments()[0] instanceof Class<?> inner) {
                type = inner;
            }
            if (Map.class.isAssignableFrom(type)) {
                continue; // named entries (tools, prices): not settings a descriptor sets by a fixed name
            }
            if (type.isInterface() && type.getDeclaringClass() == AgentfnConfig.class) {
                collectProperties(type, path, out);
            } else {
                out.add(path);
            }
        }
    }

    static String kebab(String camel) {
        return camel.replaceAll("([a-z0-9])([A-Z])", "$1-$2").toLowerCase(Locale.ROOT);
    }

    static Duration duration(String s) {
        Matcher m = Pattern.compile("(\\d+)(ms|s|m)").matcher(s.trim());
        if (!m.matches()) {
            throw new AssertionError("not a duration: " + s);
        }
        long n = Long.parseLong(m.group(1));
        return switch (m.group(2)) {
            case "ms" -> Duration.ofMillis(n);
            case "s" -> Duration.ofSeconds(n);
            default -> Duration.ofMinutes(n);
        };
    }

    // ---------------------------------------------------------------------------------------------------------
    // YAML

    /** SafeConstructor that turns CloudFormation's short-form tags into their long-form maps. */
    static final class CloudFormationConstructor extends SafeConstructor {
        CloudFormationConstructor() {
            super(new LoaderOptions());
            this.yamlConstructors.put(null, new AbstractConstruct() {
                @Override
                public Object construct(Node node) {
                    String tag = node.getTag().getValue();
                    if (!tag.startsWith("!")) {
                        throw new IllegalArgumentException("unexpected YAML tag " + tag);
                    }
                    String fn = tag.substring(1);
                    Object value;
                    if (node instanceof ScalarNode s) {
                        value = constructScalar(s);
                    } else if (node instanceof SequenceNode q) {
                        value = constructSequence(q);
                    } else {
                        value = constructMapping((MappingNode) node);
                    }
                    if (fn.equals("GetAtt") && value instanceof String s) {
                        value = List.of(s.split("\\.", 2));
                    }
                    Map<String, Object> out = new LinkedHashMap<>();
                    out.put(fn.equals("Ref") || fn.equals("Condition") ? fn : "Fn::" + fn, value);
                    return out;
                }
            });
        }
    }

    static Map<String, Object> load(Path file) throws IOException {
        Object doc = new Yaml(new CloudFormationConstructor()).load(Files.readString(file));
        Map<String, Object> map = asMap(doc);
        if (map == null) {
            throw new AssertionError(file + " is not a YAML mapping");
        }
        return map;
    }

    static String guide() throws IOException {
        return Files.readString(GUIDE);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Small helpers

    static void check(List<String> problems, boolean ok, String problem) {
        if (!ok) {
            problems.add(problem);
        }
    }

    static void assertNoProblems(List<String> problems) {
        assertEquals(List.of(), problems, () -> "problems:\n  " + String.join("\n  ", problems));
    }

    static void assertHasProblem(List<String> problems, String fragment) {
        assertTrue(problems.stream().anyMatch(p -> p.contains(fragment)), "expected a problem mentioning " + fragment + ", got " + problems);
    }

    @SuppressWarnings("unchecked")
    /** The schedule's Input: a plain string, or the template string of its Fn::Sub (string or [string, vars]). */
    static Object scheduleEventTemplate(Map<String, Object> schedule) {
        Object input = get(schedule, "Properties", "Target", "Input");
        if (input instanceof String str) {
            return str;
        }
        Object sub = get(asMap(input), "Fn::Sub");
        return sub instanceof List<?> list && !list.isEmpty() ? list.get(0) : sub;
    }

    static Map<String, Object> asMap(Object o) {
        return o instanceof Map<?, ?> m ? (Map<String, Object>) m : null;
    }

    @SuppressWarnings("unchecked")
    static List<Object> asList(Object o) {
        return o instanceof List<?> l ? (List<Object>) l : null;
    }

    static Map<String, Object> orEmpty(Map<String, Object> m) {
        return m == null ? Map.of() : m;
    }

    static Object get(Map<String, Object> root, String... path) {
        Object cur = root;
        for (String p : path) {
            Map<String, Object> m = asMap(cur);
            if (m == null) {
                return null;
            }
            cur = m.get(p);
        }
        return cur;
    }

    static Map<String, Object> map(Map<String, Object> parent, String key) {
        Map<String, Object> m = asMap(parent.get(key));
        if (m == null) {
            throw new AssertionError("no mapping " + key + " in " + parent.keySet());
        }
        return m;
    }

    static boolean notBlank(Object o) {
        return o instanceof String s && !s.isBlank();
    }

    static boolean positiveInt(Object o) {
        try {
            return o != null && Integer.parseInt(String.valueOf(o)) > 0;
        } catch (NumberFormatException e) {
            return false;
        }
    }

    static Map<String, Object> container(Map<String, Object> doc) {
        return asMap(asList(get(doc, "spec", "template", "spec", "containers")).get(0));
    }

    static Map<String, Object> annotations(Map<String, Object> doc) {
        return asMap(get(doc, "spec", "template", "metadata", "annotations"));
    }

    static List<Map<String, Object>> env(Map<String, Object> doc) {
        List<Map<String, Object>> out = new ArrayList<>();
        List<Object> raw = asList(container(doc).get("env"));
        raw.forEach(o -> out.add(asMap(o)));
        return new ListView(raw, out);
    }

    /** A typed view whose add() also adds to the underlying YAML list. */
    static final class ListView extends ArrayList<Map<String, Object>> {
        private final List<Object> backing;

        ListView(List<Object> backing, List<Map<String, Object>> items) {
            super(items);
            this.backing = backing;
        }

        @Override
        public boolean add(Map<String, Object> item) {
            backing.add(item);
            return super.add(item);
        }
    }
}
