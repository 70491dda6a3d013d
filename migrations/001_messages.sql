-- The shared message store (issue 17): messages, and each agent's current connection.
-- A message stays after its ACK (acked_at set) so that the same id sent again is not
-- stored twice; "waiting" means acked_at IS NULL.
CREATE TABLE ft_messages (
  seq bigserial PRIMARY KEY,
  recipient text NOT NULL,
  id text NOT NULL,
  sender text NOT NULL,
  -- The body as JSON text (NULL when the message has none); text keeps it byte for byte.
  body text,
  stored_at bigint NOT NULL,
  acked_at bigint,
  UNIQUE (recipient, id)
);
CREATE INDEX ft_messages_waiting ON ft_messages (recipient, seq) WHERE acked_at IS NULL;

-- The connection an agent's messages go to: its newest hello, on any front of any process.
CREATE TABLE ft_agents (
  agent text PRIMARY KEY,
  holder text NOT NULL,
  since bigint NOT NULL
);
