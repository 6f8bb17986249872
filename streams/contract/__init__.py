"""The event contract as code: event records and their decoder, payloads, values,
identifiers, rejections, and the internal fan-out messages. Imports nothing of ours."""
