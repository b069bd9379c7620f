// Drive `stockade mcp` with an official MCP TypeScript client and print what
// it saw as one JSON object.  Usage:
//   node client.mjs sdk|client-legacy|client-auto|client-pin STEPS.json -- COMMAND ARGS...
// STEPS.json: [{"tool": NAME, "arguments": {...}}, ...]; a step's arguments
// may say "session": "$SESSION" for the session id the first result named.
//   sdk            @modelcontextprotocol/sdk (v1): the 2025-11-25 initialize handshake
//   client-legacy  @modelcontextprotocol/client (v2), default negotiation ('legacy')
//   client-auto    v2 with versionNegotiation 'auto': probes with server/discover
//   client-pin     v2 pinned to 2026-07-28: stateless, version in every request's _meta
import { readFileSync } from 'node:fs';

const [flavour, stepsFile, dashdash, command, ...args] = process.argv.slice(2);
if (dashdash !== '--' || !command) {
	console.error('usage: node client.mjs FLAVOUR STEPS.json -- COMMAND ARGS...');
	process.exit(2);
}
const steps = JSON.parse(readFileSync(stepsFile, 'utf8'));
const info = { name: 'stockade-integration', version: '1.0.0' };
const params = { command, args, env: { ...process.env }, stderr: 'inherit' };

let client;
if (flavour === 'sdk') {
	const { Client } = await import('@modelcontextprotocol/sdk/client/index.js');
	const { StdioClientTransport } = await import('@modelcontextprotocol/sdk/client/stdio.js');
	client = new Client(info);
	await client.connect(new StdioClientTransport(params));
} else {
	const { Client } = await import('@modelcontextprotocol/client');
	const { StdioClientTransport } = await import('@modelcontextprotocol/client/stdio');
	const mode = { 'client-legacy': 'legacy', 'client-auto': 'auto', 'client-pin': { pin: '2026-07-28' } }[flavour];
	if (!mode) throw new Error(`unknown flavour ${flavour}`);
	client = new Client(info, { versionNegotiation: { mode } });
	await client.connect(new StdioClientTransport(params));
}

const out = {
	flavour,
	server: client.getServerVersion(),
	protocolVersion: client.getNegotiatedProtocolVersion?.() ?? null,
	era: client.getProtocolEra?.() ?? null,
	tools: (await client.listTools()).tools.map((t) => t.name),
	results: [],
};
let session = null;
for (const step of steps) {
	const a = { ...step.arguments };
	if (a.session === '$SESSION') a.session = session;
	const r = await client.callTool({ name: step.tool, arguments: a });
	session ??= r.structuredContent?.session ?? null;
	out.results.push({ isError: r.isError ?? false, text: r.content?.[0]?.text ?? '', structured: r.structuredContent ?? null });
}
await client.close();
console.log(JSON.stringify(out));
