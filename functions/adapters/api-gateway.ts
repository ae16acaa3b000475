import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { Answer, DeliveryRequest } from '../core/delivery-types.ts';

/** API Gateway HTTP API (payload format 2.0) → the core's request: raw body bytes, lower-cased header names. */
export function requestFromApiGateway(event: APIGatewayProxyEventV2): DeliveryRequest {
  const headers: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(event.headers ?? {})) headers[name.toLowerCase()] = value;
  const body = event.body === undefined ? Buffer.alloc(0) : Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8');
  const listener = event.pathParameters?.listener;
  return { headers, body, listenerPath: listener ? `/${listener}` : '' };
}

export function resultFromAnswer(answer: Answer): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode: answer.status,
    headers: { 'content-type': 'application/json; charset=utf-8' },
    body: JSON.stringify(answer.body),
  };
}
