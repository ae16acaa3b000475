import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { Answer, DeliveryRequest } from '../core/delivery-types.ts';

/** API Gateway HTTP API (payload format 2.0) → the core's request: raw body bytes, lower-cased header names. */
export function requestFromApiGateway(event: APIGatewayProxyEventV2): DeliveryRequest {
  const headers: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(event.headers ?? {})) headers[name.toLowerCase()] = value;
  const body = event.body === undefined ? Buffer.alloc(0) : Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8');
  const listener = event.pathParameters?.listener;
  return { headers, body, listenerPath: listener ? `/${listener}` : '', requestURL: requestUrl(event, headers) };
}

/** The URL GitHub posted to; an HTTP API is https only, and its custom domains arrive as the domain name too. */
function requestUrl(event: APIGatewayProxyEventV2, headers: Record<string, string | undefined>): string {
  const scheme = headers['x-forwarded-proto'] === 'http' ? 'http' : 'https';
  const host = event.requestContext?.domainName ?? headers.host ?? '';
  const query = event.rawQueryString ? `?${event.rawQueryString}` : '';
  return `${scheme}://${host}${event.rawPath ?? '/'}${query}`;
}

export function resultFromAnswer(answer: Answer): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode: answer.status,
    headers: { 'content-type': 'application/json; charset=utf-8' },
    body: JSON.stringify(answer.body),
  };
}
