package dev.agentfn.conversation;

import java.net.URI;
import java.util.Optional;

/**
 * A Messages API that answers instead of the configured one, when one is active: the local stand-in of the demo
 * and of a deployment without credentials ({@code agentfn.anthropic.stand-in}). Implemented where the stand-in
 * lives ({@code standin.StandInBeans}), so the engines never depend on a fake.
 */
public interface SubstituteEndpoint {
    /** The substitute's base URL; empty when the configured endpoint answers. */
    Optional<URI> baseUrl();
}
