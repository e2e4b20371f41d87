-- A late instance reopens a study in delivery_failed too (state added by 20261206150000): like
-- done, skipped and failed, the study is processed again as a new revision, and a new SR is
-- produced only when the selected input changed. Same signature and body as 20261206130000 but
-- for that state in the reopen list.
CREATE OR REPLACE FUNCTION ldh_record_instance(
  p_sop_instance_uid     TEXT,
  p_sop_class_uid        TEXT,
  p_study_instance_uid   TEXT,
  p_series_instance_uid  TEXT,
  p_transfer_syntax_uid  TEXT,
  p_sha256               TEXT,
  p_size_bytes           BIGINT,
  p_storage_key          TEXT,
  p_calling_ae_title     TEXT,
  p_remote_address       TEXT,
  p_received_at          TIMESTAMP(3),
  p_modality             TEXT,
  p_series_description   TEXT,
  p_series_number        INTEGER,
  p_body_part_examined   TEXT,
  p_instance_number      INTEGER,
  p_image_position       DOUBLE PRECISION[],
  p_image_orientation    DOUBLE PRECISION[],
  p_rows                 INTEGER,
  p_columns              INTEGER,
  p_patient_id_hash      TEXT,
  p_actor                TEXT,
  p_number_of_frames     INTEGER DEFAULT NULL,
  p_frames               JSONB DEFAULT NULL,
  p_frame_geometry_error TEXT DEFAULT NULL
) RETURNS TEXT LANGUAGE plpgsql AS $$
DECLARE
  v_study_id  UUID;
  v_state     "StudyState";
  v_revision  INTEGER;
  v_count     INTEGER;
  v_series_id UUID;
  v_previous  TEXT[];
  v_reopen    BOOLEAN;
BEGIN
  -- Upsert and lock the study row: instances of one study serialize here, so the duplicate
  -- check below cannot race a concurrent insert of the same SOP Instance UID.
  INSERT INTO "Study" ("id", "studyInstanceUid", "firstInstanceAt", "lastInstanceAt", "patientIdHash", "updatedAt")
  VALUES (gen_random_uuid(), p_study_instance_uid, p_received_at, p_received_at, p_patient_id_hash, now())
  ON CONFLICT ("studyInstanceUid") DO UPDATE
    SET "lastInstanceAt" = GREATEST("Study"."lastInstanceAt", EXCLUDED."lastInstanceAt"), "updatedAt" = now()
  RETURNING "id", "state", "revision", "instanceCount" INTO v_study_id, v_state, v_revision, v_count;

  SELECT array_agg("sha256") INTO v_previous FROM "Instance" WHERE "sopInstanceUid" = p_sop_instance_uid;
  IF v_previous IS NOT NULL AND p_sha256 = ANY (v_previous) THEN
    -- A resend of an instance whose file startup reconciliation found missing: the SCP has just
    -- stored these bytes again, so the row is whole again; a study failed only for missing files
    -- is reopened (its quiet period starts over).
    UPDATE "Instance" SET "fileMissingAt" = NULL, "storageKey" = p_storage_key
      WHERE "sopInstanceUid" = p_sop_instance_uid AND "sha256" = p_sha256 AND "fileMissingAt" IS NOT NULL;
    IF FOUND THEN
      INSERT INTO "AuditEvent" ("entityType", "entityId", "action", "actor", "studyInstanceUid", "details")
      VALUES ('instance', p_sop_instance_uid, 'instance.file-restored', p_actor, p_study_instance_uid,
              jsonb_build_object('sha256', p_sha256, 'storageKey', p_storage_key));
      IF v_state = 'failed' AND NOT EXISTS (SELECT 1 FROM "Instance" WHERE "studyId" = v_study_id AND "fileMissingAt" IS NOT NULL)
         AND (SELECT "stateReason" FROM "Study" WHERE "id" = v_study_id) LIKE 'instance file missing%' THEN
        UPDATE "Study" SET "state" = 'receiving', "revision" = "revision" + 1, "stateReason" = NULL, "settledAt" = NULL
          WHERE "id" = v_study_id;
        INSERT INTO "AuditEvent" ("entityType", "entityId", "action", "actor", "studyInstanceUid", "details")
        VALUES ('study', v_study_id::TEXT, 'study.reopened', p_actor, p_study_instance_uid,
                jsonb_build_object('from', 'failed', 'to', 'receiving', 'revision', v_revision + 1, 'reason', 'missing instance files restored'));
      END IF;
    END IF;
    RETURN 'duplicate';
  END IF;

  v_reopen := v_state IN ('settled', 'routed', 'inferring', 'reporting', 'delivering', 'done', 'skipped', 'failed', 'delivery_failed');

  INSERT INTO "Series" ("id", "studyId", "seriesInstanceUid", "modality", "seriesDescription", "seriesNumber", "bodyPartExamined", "instanceCount")
  VALUES (gen_random_uuid(), v_study_id, p_series_instance_uid, p_modality, p_series_description, p_series_number, p_body_part_examined,
          CASE WHEN v_previous IS NULL THEN 1 ELSE 0 END)
  ON CONFLICT ("seriesInstanceUid") DO UPDATE
    SET "instanceCount" = "Series"."instanceCount" + CASE WHEN v_previous IS NULL THEN 1 ELSE 0 END
  RETURNING "id" INTO v_series_id;

  IF v_previous IS NULL OR v_reopen THEN
    UPDATE "Study" SET
      "instanceCount" = "instanceCount" + CASE WHEN v_previous IS NULL THEN 1 ELSE 0 END,
      "state"         = CASE WHEN v_reopen THEN 'receiving'::"StudyState" ELSE "state" END,
      "revision"      = "revision" + CASE WHEN v_reopen THEN 1 ELSE 0 END,
      "stateReason"   = CASE WHEN v_reopen THEN NULL ELSE "stateReason" END,
      "settledAt"     = CASE WHEN v_reopen THEN NULL ELSE "settledAt" END
    WHERE "id" = v_study_id;
  END IF;

  IF v_previous IS NOT NULL THEN
    UPDATE "Instance" SET "isCurrent" = false WHERE "sopInstanceUid" = p_sop_instance_uid;
  END IF;

  INSERT INTO "Instance" ("id", "studyId", "seriesId", "sopInstanceUid", "sopClassUid", "transferSyntaxUid", "sha256", "sizeBytes",
                          "storageKey", "instanceNumber", "imagePositionPatient", "imageOrientationPatient", "rows", "columns",
                          "numberOfFrames", "frames", "frameGeometryError",
                          "callingAeTitle", "remoteAddress", "receivedAt")
  VALUES (gen_random_uuid(), v_study_id, v_series_id, p_sop_instance_uid, p_sop_class_uid, p_transfer_syntax_uid, p_sha256, p_size_bytes,
          p_storage_key, p_instance_number, COALESCE(p_image_position, '{}'), COALESCE(p_image_orientation, '{}'), p_rows, p_columns,
          p_number_of_frames, p_frames, p_frame_geometry_error,
          p_calling_ae_title, p_remote_address, p_received_at);

  IF v_count = 0 AND NOT v_reopen THEN
    INSERT INTO "AuditEvent" ("entityType", "entityId", "action", "actor", "studyInstanceUid", "details")
    VALUES ('study', v_study_id::TEXT, 'study.receiving', p_actor, p_study_instance_uid,
            jsonb_build_object('callingAeTitle', p_calling_ae_title, 'firstSopInstanceUid', p_sop_instance_uid));
  END IF;
  IF v_reopen THEN
    INSERT INTO "AuditEvent" ("entityType", "entityId", "action", "actor", "studyInstanceUid", "details")
    VALUES ('study', v_study_id::TEXT, 'study.reopened', p_actor, p_study_instance_uid,
            jsonb_build_object('from', v_state::TEXT, 'to', 'receiving', 'revision', v_revision + 1, 'sopInstanceUid', p_sop_instance_uid));
  END IF;
  IF v_previous IS NOT NULL THEN
    INSERT INTO "AuditEvent" ("entityType", "entityId", "action", "actor", "studyInstanceUid", "details")
    VALUES ('instance', p_sop_instance_uid, 'instance.version-conflict', p_actor, p_study_instance_uid,
            jsonb_build_object('sha256', p_sha256, 'previous', to_jsonb(v_previous), 'policy', 'keep-both-newest-current'));
    RETURN 'new-version';
  END IF;
  RETURN 'stored';
END;
$$;
