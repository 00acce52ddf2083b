#!/usr/bin/env bash
# Deploy sheetflow to Google Cloud: three Cloud Functions (gen2) run by Cloud Scheduler, state in
# Firestore, the spreadsheet in Google Sheets, mail through Gmail or SMTP.
# Idempotent: run it again to update code or settings; nothing that exists is created twice.
#
# Usage:
#   ./deploy.sh --project ID --spreadsheet-id ID (--sender ADDRESS | --smtp-url URL)
#               [--region REGION] [--time-zone ZONE] [--memory SIZE] [--dry-run]
#
# Every flag can come from the environment instead: PROJECT_ID, SPREADSHEET_ID, SENDER,
# SMTP_URL, REGION (default europe-west1), TIME_ZONE (the sheet's; default Etc/UTC),
# MEMORY (each function's, default 512Mi; make bench measured at most 204 MiB at 10,000
# invoices + 10,000 deals and 384 MiB at 100,000 + 100,000: give a bigger sheet 1Gi),
# FIRESTORE_LOCATION (default: REGION). An SMTP password is read only from
# SHEETFLOW_SMTP_PASSWORD and stored in Secret Manager, never printed.
# --bitrix24: Bitrix24 feeds the Deals tab; the inbound webhook is read only from
# SHEETFLOW_BITRIX24_WEBHOOK and stored in Secret Manager (never a flag, never printed).
#
# --dry-run prints every command instead of running it, as a first deployment would run them
# (SHEETFLOW_DRY_RUN_EXISTING=1: as a re-deployment, where every resource already exists).
set -euo pipefail

readonly FUNCTIONS=(invoice_flow deal_watch monthly_report)
readonly APIS=(
  cloudfunctions.googleapis.com run.googleapis.com cloudbuild.googleapis.com
  cloudscheduler.googleapis.com firestore.googleapis.com sheets.googleapis.com
  drive.googleapis.com gmail.googleapis.com secretmanager.googleapis.com
  artifactregistry.googleapis.com logging.googleapis.com iam.googleapis.com
)
readonly FLOW_SCHEDULE='* * * * *'
readonly REPORT_SCHEDULE='0 6 1 * *'
readonly RUNTIME_NAME=sheetflow-runtime
readonly INVOKER_NAME=sheetflow-scheduler
readonly BUILD_NAME=sheetflow-build
# What a Cloud Functions build needs from its own account: new projects no longer give the
# default Cloud Build account these roles, so the first deployment would fail without them.
readonly BUILD_ROLES=(roles/cloudbuild.builds.builder roles/logging.logWriter
  roles/artifactregistry.writer roles/storage.objectViewer)
readonly SECRET_NAME=sheetflow-smtp-password
readonly GMAIL_SCOPES=https://www.googleapis.com/auth/gmail.send,https://www.googleapis.com/auth/gmail.readonly
SOURCE_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
readonly SOURCE_DIR

die() {
  echo "deploy.sh: $*" >&2
  exit 2
}

usage() {
  sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'
}

PROJECT_ID=${PROJECT_ID:-}
REGION=${REGION:-europe-west1}
SPREADSHEET_ID=${SPREADSHEET_ID:-}
SENDER=${SENDER:-}
SMTP_URL=${SMTP_URL:-}
TIME_ZONE=${TIME_ZONE:-Etc/UTC}
MEMORY=${MEMORY:-512Mi}
DRY_RUN=0
BITRIX24=0

set_flag() {
  case $1 in
    --project) PROJECT_ID=$2 ;;
    --region) REGION=$2 ;;
    --spreadsheet-id) SPREADSHEET_ID=$2 ;;
    --sender) SENDER=$2 ;;
    --smtp-url) SMTP_URL=$2 ;;
    --time-zone) TIME_ZONE=$2 ;;
    --memory) MEMORY=$2 ;;
  esac
}

while (($# > 0)); do
  case $1 in
    --dry-run) DRY_RUN=1 && shift ;;
    --bitrix24) BITRIX24=1 && shift ;;
    -h | --help) usage && exit 0 ;;
    --project | --region | --spreadsheet-id | --sender | --smtp-url | --time-zone | --memory)
      (($# >= 2)) || die "$1 needs a value"
      set_flag "$1" "$2" && shift 2
      ;;
    --project=* | --region=* | --spreadsheet-id=* | --sender=* | --smtp-url=* | --time-zone=* | --memory=*)
      set_flag "${1%%=*}" "${1#*=}" && shift
      ;;
    *) die "unknown argument: $1 (see --help)" ;;
  esac
done
FIRESTORE_LOCATION=${FIRESTORE_LOCATION:-$REGION}
SMTP_PASSWORD=${SHEETFLOW_SMTP_PASSWORD:-}
BITRIX24_WEBHOOK=${SHEETFLOW_BITRIX24_WEBHOOK:-}
if ((BITRIX24)); then
  [[ $BITRIX24_WEBHOOK =~ ^https://[^/[:space:]]+/rest/[0-9]+/[^/[:space:]]+/?$ ]] ||
    die "--bitrix24: set SHEETFLOW_BITRIX24_WEBHOOK to https://PORTAL/rest/USER/CODE/"
fi

[[ $PROJECT_ID =~ ^[a-z][a-z0-9-]{4,28}[a-z0-9]$ ]] || die "--project: not a project ID: '$PROJECT_ID'"
[[ $REGION =~ ^[a-z]+-[a-z]+[0-9]+$ ]] || die "--region: not a region: '$REGION'"
[[ $SPREADSHEET_ID =~ ^[A-Za-z0-9_-]{10,}$ ]] || die "--spreadsheet-id: not a spreadsheet ID"
[[ $TIME_ZONE =~ ^[A-Za-z_]+(/[A-Za-z0-9_+-]+)*$ ]] || die "--time-zone: not a zone: '$TIME_ZONE'"
[[ $MEMORY =~ ^[0-9]+(Mi|Gi)$ ]] || die "--memory: not a size like 512Mi or 1Gi: '$MEMORY'"
if [[ -n $SENDER && -n $SMTP_URL ]]; then
  die "give --sender (Gmail) or --smtp-url, not both"
elif [[ -n $SENDER ]]; then
  [[ $SENDER =~ ^[^@[:space:],\"]+@[^@[:space:],\"]+\.[^@[:space:],\"]+$ ]] ||
    die "--sender: not an email address: '$SENDER'"
  MAIL=gmail:$SENDER
elif [[ -n $SMTP_URL ]]; then
  [[ $SMTP_URL =~ ^(smtp|smtp\+starttls|smtps)://[^[:space:],]+$ ]] ||
    die "--smtp-url: use smtp://, smtp+starttls:// or smtps://HOST:PORT (no commas)"
  [[ ! $SMTP_URL =~ ^[^:]+://[^/@]*:[^/@]*@ ]] ||
    die "--smtp-url: no password in the URL; set SHEETFLOW_SMTP_PASSWORD instead"
  if [[ $SMTP_URL =~ ^[^:]+://[^/]*@ && -z $SMTP_PASSWORD ]]; then
    die "--smtp-url names a user: set SHEETFLOW_SMTP_PASSWORD"
  fi
  MAIL=$SMTP_URL
else
  die "give --sender ADDRESS (Gmail) or --smtp-url URL"
fi

RUNTIME_SA=$RUNTIME_NAME@$PROJECT_ID.iam.gserviceaccount.com
INVOKER_SA=$INVOKER_NAME@$PROJECT_ID.iam.gserviceaccount.com
BUILD_SA=$BUILD_NAME@$PROJECT_ID.iam.gserviceaccount.com

# A word as the shell would need it typed: bare when safe, else in single quotes.
quote() {
  if [[ $1 =~ ^[A-Za-z0-9_@%+=:,./-]+$ ]]; then
    printf '%s' "$1"
  else
    printf "'%s'" "${1//\'/\'\\\'\'}"
  fi
}

show() {
  local word line='+'
  for word in "$@"; do
    line+=" $(quote "$word")"
  done
  printf '%s\n' "$line"
}

# Run a command (or, with --dry-run, print it).
run() {
  if ((DRY_RUN)); then
    show "$@"
  else
    "$@"
  fi
}

# Run an IAM change, again while a service account created seconds ago is not known yet
# everywhere (IAM is eventually consistent: "does not exist" for up to a minute or two).
run_iam() {
  local attempt
  if ((DRY_RUN)); then
    show "$@"
    return
  fi
  for attempt in 1 2 3 4 5 6; do
    if "$@"; then
      return 0
    fi
    ((attempt < 6)) || return 1
    echo "deploy.sh: IAM not ready yet (a new service account propagates); retrying in 15 s" >&2
    sleep 15
  done
}

# Whether a `describe` finds the resource; with --dry-run, print it and assume a first deployment.
exists() {
  if ((DRY_RUN)); then
    show "$@"
    [[ ${SHEETFLOW_DRY_RUN_EXISTING:-0} == 1 ]]
  else
    "$@" >/dev/null 2>&1
  fi
}

# Run a command with a secret on its standard input; the secret is never shown.
run_with_secret() {
  local secret=$1
  shift
  if ((DRY_RUN)); then
    show "$@"
    echo "  # (standard input: \$${SECRET_FROM:-SHEETFLOW_SMTP_PASSWORD})"
  else
    printf '%s' "$secret" | "$@"
  fi
}

P=(--project="$PROJECT_ID")
step() { printf '\n== %s\n' "$*"; }

step "Enabling APIs"
apis=("${APIS[@]}")
[[ -z $SENDER ]] || apis+=(iamcredentials.googleapis.com) # keyless domain-wide delegation
run gcloud services enable "${apis[@]}" "${P[@]}"

step "Service accounts"
if ! exists gcloud iam service-accounts describe "$RUNTIME_SA" "${P[@]}"; then
  run gcloud iam service-accounts create "$RUNTIME_NAME" "${P[@]}" \
    --display-name="sheetflow functions (runtime)"
fi
if ! exists gcloud iam service-accounts describe "$INVOKER_SA" "${P[@]}"; then
  run gcloud iam service-accounts create "$INVOKER_NAME" "${P[@]}" \
    --display-name="sheetflow scheduler (invokes the functions)"
fi
if ! exists gcloud iam service-accounts describe "$BUILD_SA" "${P[@]}"; then
  run gcloud iam service-accounts create "$BUILD_NAME" "${P[@]}" \
    --display-name="sheetflow build (builds the functions' code)"
fi
for role in roles/datastore.user roles/logging.logWriter; do
  run_iam gcloud projects add-iam-policy-binding "$PROJECT_ID" \
    --member="serviceAccount:$RUNTIME_SA" --role="$role" --condition=None --format=none
done
for role in "${BUILD_ROLES[@]}"; do
  run_iam gcloud projects add-iam-policy-binding "$PROJECT_ID" \
    --member="serviceAccount:$BUILD_SA" --role="$role" --condition=None --format=none
done
if [[ -n $SENDER ]]; then
  # Without a key file the function asks IAM to sign its delegated token request as itself.
  run_iam gcloud iam service-accounts add-iam-policy-binding "$RUNTIME_SA" "${P[@]}" \
    --member="serviceAccount:$RUNTIME_SA" --role=roles/iam.serviceAccountTokenCreator \
    --format=none
fi

step "Firestore"
if ! exists gcloud firestore databases describe --database='(default)' "${P[@]}"; then
  run gcloud firestore databases create --database='(default)' \
    --location="$FIRESTORE_LOCATION" --type=firestore-native "${P[@]}"
fi
# Documents that carry expires_at, deleted by TTL policies: Scheduler run claims (30 days on),
# a tick's emails (30 days after the last is sent) and what a save cut short left unlisted
# (7 days). The keys of every email ever queued stay, so that none goes out twice: README.
for group in runs outbox journal; do
  run gcloud firestore fields ttls update expires_at --collection-group="$group" --enable-ttl \
    --database='(default)' --async "${P[@]}"
done

secrets=(--clear-secrets)
if [[ -n $SMTP_PASSWORD ]]; then
  step "SMTP password in Secret Manager"
  if ! exists gcloud secrets describe "$SECRET_NAME" "${P[@]}"; then
    run gcloud secrets create "$SECRET_NAME" --replication-policy=automatic "${P[@]}"
  fi
  current=
  if ((!DRY_RUN)); then
    current=$(gcloud secrets versions access latest --secret="$SECRET_NAME" "${P[@]}" \
      2>/dev/null) || current=
  fi
  if ((DRY_RUN)) || [[ $current != "$SMTP_PASSWORD" ]]; then
    run_with_secret "$SMTP_PASSWORD" gcloud secrets versions add "$SECRET_NAME" \
      --data-file=- "${P[@]}"
  fi
  run_iam gcloud secrets add-iam-policy-binding "$SECRET_NAME" "${P[@]}" \
    --member="serviceAccount:$RUNTIME_SA" --role=roles/secretmanager.secretAccessor \
    --format=none
  secrets=(--set-secrets="SHEETFLOW_SMTP_PASSWORD=$SECRET_NAME:latest")
fi
if ((BITRIX24)); then
  step "Bitrix24 webhook in Secret Manager"
  hook_secret=sheetflow-bitrix24-webhook
  exists gcloud secrets describe "$hook_secret" "${P[@]}" ||
    run gcloud secrets create "$hook_secret" --replication-policy=automatic "${P[@]}"
  current=
  ((DRY_RUN)) || current=$(gcloud secrets versions access latest --secret="$hook_secret" \
    "${P[@]}" 2>/dev/null) || current=
  [[ $current == "$BITRIX24_WEBHOOK" ]] ||
    SECRET_FROM=SHEETFLOW_BITRIX24_WEBHOOK run_with_secret "$BITRIX24_WEBHOOK" \
      gcloud secrets versions add "$hook_secret" --data-file=- "${P[@]}"
  run gcloud secrets add-iam-policy-binding "$hook_secret" "${P[@]}" \
    --member="serviceAccount:$RUNTIME_SA" --role=roles/secretmanager.secretAccessor \
    --format=none
  hook="SHEETFLOW_BITRIX24_WEBHOOK=$hook_secret:latest"
  [[ ${secrets[0]} == --clear-secrets ]] && secrets=(--set-secrets="$hook") ||
    secrets=("${secrets[0]},$hook")
fi

step "Functions"
for name in "${FUNCTIONS[@]}"; do
  # One instance handling one request at a time: ticks never overlap (the lock is a backstop).
  # MALLOC_ARENA_MAX=2: glibc's per-thread malloc arenas (gRPC threads) would hold ~50 MB more.
  run gcloud functions deploy "$name" --gen2 "${P[@]}" --region="$REGION" \
    --runtime=python311 --source="$SOURCE_DIR" --entry-point="$name" \
    --trigger-http --no-allow-unauthenticated --service-account="$RUNTIME_SA" \
    --build-service-account="projects/$PROJECT_ID/serviceAccounts/$BUILD_SA" \
    --max-instances=1 --concurrency=1 --memory="$MEMORY" --timeout=300s \
    --set-env-vars="SHEETFLOW_BOOK=gsheet:$SPREADSHEET_ID,SHEETFLOW_MAIL=$MAIL,SHEETFLOW_SERVICE_ACCOUNT=$RUNTIME_SA,MALLOC_ARENA_MAX=2" \
    "${secrets[@]}" --quiet
  run_iam gcloud functions add-invoker-policy-binding "$name" "${P[@]}" --region="$REGION" \
    --member="serviceAccount:$INVOKER_SA" --format=none
done

step "Schedules (time zone $TIME_ZONE)"
for name in "${FUNCTIONS[@]}"; do
  describe=(gcloud functions describe "$name" --gen2 "${P[@]}" --region="$REGION"
    --format='value(serviceConfig.uri)')
  if ((DRY_RUN)); then
    show "${describe[@]}"
    url="https://${name//_/-}-DRY-RUN.a.run.app"
  else
    url=$("${describe[@]}")
  fi
  # A failed flow tick is retried by the next minute's; a failed report is retried here.
  schedule=$FLOW_SCHEDULE retries=0
  [[ $name != monthly_report ]] || schedule=$REPORT_SCHEDULE retries=3
  job=sheetflow-${name//_/-}
  action=create
  if exists gcloud scheduler jobs describe "$job" --location="$REGION" "${P[@]}"; then
    action=update
  fi
  run gcloud scheduler jobs "$action" http "$job" --location="$REGION" "${P[@]}" \
    --schedule="$schedule" --time-zone="$TIME_ZONE" --uri="$url" --http-method=post \
    --oidc-service-account-email="$INVOKER_SA" --oidc-token-audience="$url" \
    --attempt-deadline=320s --max-retry-attempts="$retries" --min-backoff=60s \
    --description="sheetflow: run $name"
done

step "Next steps"
cat <<EOF
1. Share the spreadsheet https://docs.google.com/spreadsheets/d/$SPREADSHEET_ID
   with $RUNTIME_SA as Editor.
EOF
if [[ -n $SENDER ]]; then
  client_id="(gcloud iam service-accounts describe $RUNTIME_SA --format='value(oauth2ClientId)')"
  if ((!DRY_RUN)); then
    client_id=$(gcloud iam service-accounts describe "$RUNTIME_SA" "${P[@]}" \
      --format='value(oauth2ClientId)')
  fi
  cat <<EOF
2. Let the functions send as $SENDER (a Google Workspace super admin, once):
   admin.google.com → Security → Access and data control → API controls →
   Domain-wide delegation → Add new: client ID $client_id
   with the scopes $GMAIL_SCOPES
EOF
elif [[ -n $SMTP_PASSWORD ]]; then
  echo "2. Mail goes through $SMTP_URL; the password is the secret $SECRET_NAME."
else
  echo "2. Mail goes through $SMTP_URL (no login)."
fi
cat <<EOF
3. Try a tick now: gcloud scheduler jobs run sheetflow-invoice-flow --location=$REGION --project=$PROJECT_ID
   and read its log: gcloud functions logs read invoice_flow --gen2 --region=$REGION --project=$PROJECT_ID
EOF
