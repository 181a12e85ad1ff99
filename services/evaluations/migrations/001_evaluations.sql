-- Regional reports, annual evaluations and the agreement's term, as the evaluations service has accepted them.

-- Every accepted submission stays: a resubmission supersedes the earlier one but does not replace the row.
CREATE TABLE reports (
    agreement_id    text        NOT NULL,
    report_id       text        NOT NULL,
    region          text        NOT NULL,
    reporting_date  date        NOT NULL,
    submitted_by    text        NOT NULL,
    received_at     timestamptz NOT NULL,
    late            boolean     NOT NULL,
    supersedes      text,
    focus_areas     jsonb       NOT NULL,
    summary         text        NOT NULL,
    event_id        text        NOT NULL,
    PRIMARY KEY (agreement_id, report_id)
);
CREATE INDEX reports_by_date ON reports (agreement_id, reporting_date, region, received_at);

CREATE TABLE agreement_terms (
    agreement_id     text        PRIMARY KEY,
    notice_given_by  text,
    notice_date      date,
    effective_date   date,
    notice_event_id  text,
    ended_on         date,
    end_kind         text        CHECK (end_kind IN ('terminated', 'expired')),
    updated_at       timestamptz NOT NULL
);

CREATE TABLE evaluations (
    agreement_id    text        NOT NULL,
    year            integer     NOT NULL,
    due_on          date,
    deadline        date,
    overdue_at      timestamptz,
    completed_on    date,
    completed_by    text,
    summary         text,
    PRIMARY KEY (agreement_id, year)
);

-- What the meetings service reported, kept only as far as the evaluation packet needs it.
CREATE TABLE meetings_seen (
    agreement_id  text  NOT NULL,
    meeting_id    text  NOT NULL,
    kind          text  NOT NULL,
    region        text,
    status        text  NOT NULL,
    held_on       date,
    PRIMARY KEY (agreement_id, meeting_id)
);

CREATE TABLE action_items_seen (
    agreement_id    text     NOT NULL,
    action_item_id  text     NOT NULL,
    owner           text     NOT NULL,
    region          text,
    due_on          date     NOT NULL,
    overdue         boolean  NOT NULL DEFAULT false,
    closed_on       date,
    PRIMARY KEY (agreement_id, action_item_id)
);
