// The model's data dictionary: what each view and column means, written to the warehouse as comments (COMMENT ON).
// The long form, with which vendor field feeds each column, is packages/cli/README.md ("The exam model").

/** Each view's comment. */
export const VIEW_DOCS = {
  exam_results:
    'One row per candidate attempt, from every provider loaded (ClassMarker, Testpress, OnlineExamMaker, CBTHost), in unified columns; rows deleted at the source are left out. Built by `tapline model`.',
  exams:
    'One row per exam per provider: its title and the attempts in exam_results, with mean score, mean percentage and pass rate. Built by `tapline model`.',
  question_results:
    "One row per question of an attempt, where a vendor sends them (ClassMarker's webhooks, loaded by `tapline serve`); joins exam_results on provider, account and source_key. Built by `tapline model`.",
} as const;

/** Each column's comment, per view. A column not listed gets none (a test asks for every one). */
export const COLUMN_DOCS: Record<keyof typeof VIEW_DOCS, Readonly<Record<string, string>>> = {
  exam_results: {
    provider: 'The exam platform: classmarker, testpress, onlineexammaker or cbthost.',
    account: "The account: the tap's name in tapline.yml (one account of a provider).",
    exam_id: "The provider's exam (test) id, as text.",
    exam_title: "The exam's title, from the provider's exam list, else from the result itself.",
    candidate_id: "The candidate's id at the provider (user id, else email or pass code), as text.",
    candidate_name: "The candidate's name, when the provider sends one.",
    email: "The candidate's email, when the provider sends one (blank as NULL).",
    score: 'Points scored.',
    max_score: "Points available: the provider's, else the exam's max_score in tapline.yml (see max_score_source).",
    percentage: "Score as a percentage, 0-100: the provider's, else 100 * score / max_score.",
    passed:
      "Whether the attempt passed: the provider's verdict, else the pass mark stated in tapline.yml (see passed_source); NULL while in progress or unknown.",
    started_at: 'When the attempt started (UTC).',
    finished_at: 'When the attempt finished (UTC); NULL while in progress or not sent.',
    duration_seconds: 'Time taken, in seconds.',
    status: 'finished or in_progress.',
    source_key: "The row's key at its source (e.g. link_result:<id>): unique per provider and account, stable across runs.",
    max_score_source:
      "Where max_score came from: provider (the vendor's data), tapline.yml (the project's exam settings), or NULL with the value.",
    passed_source: "Where passed came from: provider (the vendor's verdict), tapline.yml (the stated pass mark), or NULL with the value.",
  },
  exams: {
    provider: 'The exam platform: classmarker, testpress, onlineexammaker or cbthost.',
    account: "The account: the tap's name in tapline.yml (one account of a provider).",
    exam_id: "The provider's exam (test) id, as text.",
    exam_title: "The exam's title, from the provider's exam list, else the most telling title its results carry.",
    attempts: 'Rows in exam_results for this exam (0 for a listed exam nobody took).',
    mean_score: 'Mean of score over its attempts.',
    mean_percentage: 'Mean of percentage over its attempts (comparable across providers).',
    pass_rate: 'Share (0-1) of attempts that passed, among those with a known verdict; NULL when no verdict is known.',
  },
  question_results: {
    provider: 'The exam platform that sent the questions (classmarker).',
    account: "The account: the tap's name in tapline.yml (one account of a provider).",
    source_key: "The attempt's key at its source, as in exam_results.source_key.",
    exam_id: "The provider's exam (test) id, as text.",
    question_id: "The provider's question id, as text.",
    position: "The question's position in the attempt, as the vendor numbers it.",
    question_type: "The vendor's question type (e.g. multiplechoice, essay).",
    category_id: "The vendor's question category id, as text, when it has one.",
    question: 'The question text as the vendor sent it.',
    response: "The candidate's response as the vendor sent it.",
    result: "The vendor's verdict on the response (e.g. correct, incorrect, partial_correct).",
    score: 'Points scored on this question.',
    max_score: 'Points available on this question.',
  },
};
