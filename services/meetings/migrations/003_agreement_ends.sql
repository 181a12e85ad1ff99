-- An accepted termination, learnt from the evaluations service: from `terminated_from` on, the agreement asks for
-- no meetings, so none are accepted, watched or reminded of. The end of the term needs no row: it is reference data.
CREATE TABLE agreement_terminations (
    agreement_id    text        PRIMARY KEY,
    terminated_from date        NOT NULL,
    given_by        text        NOT NULL,
    learnt_from     text        NOT NULL,
    recorded_at     timestamptz NOT NULL
);
