package dev.agentfn.testing;

import io.quarkus.test.common.QuarkusTestResource;

/**
 * The external services every {@code @QuarkusTest} runs against, declared once: the fake Messages API, the HTTP
 * tool server, the real MLflow server and the fake OpenAI endpoint. Quarkus finds these annotations on any class
 * of the test sources and, being unrestricted, starts them for every test application.
 */
@QuarkusTestResource(value = FakeAnthropicResource.class, restrictToAnnotatedClass = false)
@QuarkusTestResource(value = ToolServerResource.class, restrictToAnnotatedClass = false)
@QuarkusTestResource(value = MlflowServerResource.class, restrictToAnnotatedClass = false)
@QuarkusTestResource(value = FakeOpenAiResource.class, restrictToAnnotatedClass = false)
public final class GlobalTestResources {
    private GlobalTestResources() {
    }
}
