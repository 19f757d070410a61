import type { ApolloServerPlugin, HeaderMap } from "@apollo/server";
import { type Span, SpanKind, SpanStatusCode, type TextMapGetter } from "@opentelemetry/api";
import { contextFromHeaders, traceparentOf, tracer } from "./tracing.js";

const headerGetter: TextMapGetter<HeaderMap> = {
  get: (headers, key) => headers.get(key),
  keys: (headers) => [...headers.keys()],
};

// Keyed by the request's context object: Apollo has no hook that wraps execution, so the
// resolvers find their operation's span through the context they are given.
const operationSpans = new WeakMap<object, Span>();

/** The span of the GraphQL operation whose resolvers got `contextValue` (HTTP requests only). */
export function operationSpan(contextValue: object): Span | undefined {
  return operationSpans.get(contextValue);
}

/** `{ traceparent }` of that span, to hand to work it starts; empty when it is not traced. */
export function operationTraceparent(contextValue: object): { traceparent?: string } {
  const traceparent = traceparentOf(operationSpans.get(contextValue));
  return traceparent ? { traceparent } : {};
}

/**
 * A span per GraphQL operation over HTTP, named as OpenTelemetry's GraphQL conventions say
 * ("mutation SendMessage", or the operation type alone), with the response's errors recorded.
 * A `traceparent` request header makes it a child of the caller's span.
 */
export function tracingPlugin<C extends object>(): ApolloServerPlugin<C> {
  return {
    async requestDidStart({ request, contextValue }) {
      const span = tracer().startSpan(
        "graphql",
        { kind: SpanKind.SERVER },
        contextFromHeaders(request.http?.headers, headerGetter),
      );
      operationSpans.set(contextValue, span);
      return {
        async didResolveOperation({ operation, operationName }) {
          if (!operation) return;
          const type = operation.operation;
          span.updateName(operationName ? `${type} ${operationName}` : type);
          span.setAttribute("graphql.operation.type", type);
          if (operationName) span.setAttribute("graphql.operation.name", operationName);
        },
        async didEncounterErrors({ errors }) {
          const codes = errors.map((e) => String(e.extensions?.code ?? "INTERNAL_SERVER_ERROR"));
          for (const [i, error] of errors.entries()) {
            span.recordException({ name: codes[i] as string, message: error.message });
          }
          span.setStatus({ code: SpanStatusCode.ERROR, message: [...new Set(codes)].join(", ") });
        },
        async willSendResponse() {
          span.end();
        },
      };
    },
  };
}
