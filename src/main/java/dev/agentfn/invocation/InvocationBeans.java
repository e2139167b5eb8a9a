package dev.agentfn.invocation;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.agentfn.config.Secrets;
import dev.agentfn.conversation.SubstituteEndpoint;
import dev.agentfn.conversation.ConversationEngine;
import dev.agentfn.conversation.claudecode.ClaudeCodeEngine;
import dev.agentfn.conversation.messages.MessagesEngine;
import dev.agentfn.invocation.agent.AgentVersion;
import dev.agentfn.invocation.agent.SystemPrompts;
import dev.agentfn.mlflow.MlflowAccess;
import dev.agentfn.mlflow.PromptRegistry;
import dev.agentfn.tracing.TraceDelivery;
import dev.agentfn.tracing.Tracer;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import java.util.Map;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/** Builds the invocation stage from the engines and the tracing side. */
@Singleton
public class InvocationBeans {

    @Produces
    @Singleton
    InvocationStage invocationStage(MessagesEngine messages, ClaudeCodeEngine claudeCode, Tracer tracer,
            TraceDelivery delivery, MeterRegistry registry, SubstituteEndpoint standIn, ObjectMapper json,
            Secrets secrets, @ConfigProperty(name = "quarkus.application.version", defaultValue = "dev") String version,
            AgentVersion agentVersion, SystemPrompts systemPrompts, MlflowAccess mlflow) {
        Map<String, ConversationEngine> engines = Map.of(messages.name(), messages, claudeCode.name(), claudeCode);
        return new InvocationStage(engines, tracer, delivery, new InvocationMetrics(registry), version,
                standIn.baseUrl().isPresent(), json, secrets, agentVersion, systemPrompts,
                mlflow.configured() ? new PromptRegistry(mlflow.tracking()) : null);
    }

    /** Traces of work that is not a conversation (judges, rows that failed remotely), delivered the same way. */
    @Produces
    @Singleton
    Recorder recorder(Tracer tracer, TraceDelivery delivery) {
        return new Recorder(tracer, delivery);
    }
}
