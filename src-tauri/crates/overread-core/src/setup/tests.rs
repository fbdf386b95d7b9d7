use std::path::Path;

use super::*;
use crate::api::ErrorCode;
use crate::api::ReaderIdentity;

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write");
    p
}

fn models_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../models")
}

fn context(dir: &Path, policy: Policy) -> SetupContext {
    SetupContext {
        policy,
        settings_path: dir.join("config/settings.json"),
        audit_default: dir.join("data/audit.sqlite3"),
        audit_forced: None,
        bundled: Some(models_dir().canonicalize().expect("models")),
        runtime: None,
    }
}

#[test]
fn no_machine_file_is_no_policy_and_a_bad_one_names_the_file_and_the_key() {
    let dir = tempfile::tempdir().expect("tmp");
    let none = Policy::load(&dir.path().join("absent.json")).expect("absent is fine");
    assert_eq!(none.view(), crate::api::SettingsPolicy::default());

    let cases = [
        ("[1]", "not a JSON object"),
        (
            "{\"modle_dir\": \"/m\"}",
            "modle_dir: not a setting a machine may set",
        ),
        ("{\"reader\": {}}", "reader: not a setting"),
        ("{\"read_first\": \"yes\"}", "read_first: invalid type"),
        (
            "{\"locked\": [\"pacs_config\"]}",
            "locks pacs_config but does not set it",
        ),
        ("{\"locked\": [\"colour\"]}", "locked: unknown variant"),
        ("{", "EOF"),
    ];
    for (text, expected) in cases {
        let p = write(dir.path(), "machine.json", text);
        let e = Policy::load(&p).expect_err(text);
        assert_eq!(e.code, ErrorCode::Settings);
        assert!(e.message.contains(expected), "{text}: {}", e.message);
        assert!(
            e.message.starts_with(&p.display().to_string()),
            "{}",
            e.message
        );
        assert!(!e.message.contains('\n'));
    }
    let huge = write(dir.path(), "huge.json", &" ".repeat(2 << 20));
    assert!(
        Policy::load(&huge)
            .expect_err("huge")
            .message
            .contains("1 MiB")
    );
}

#[test]
fn locked_values_win_and_cannot_be_changed_unlocked_ones_are_defaults() {
    let dir = tempfile::tempdir().expect("tmp");
    let p = write(
        dir.path(),
        "machine.json",
        r#"{"read_first": true, "max_wait_minutes": 60, "execution_provider": "cpu",
            "locked": ["read_first", "execution_provider"]}"#,
    );
    let policy = Policy::load(&p).expect("policy");
    assert!(
        policy.is_locked(SettingKey::ReadFirst) && !policy.is_locked(SettingKey::MaxWaitMinutes)
    );
    let mine = Settings::demo(Path::new("/s"), Path::new("/m"));
    let enforced = policy.enforce(&mine).expect("enforce");
    assert!(enforced.read_first, "locked: the machine's value");
    assert_eq!(enforced.execution_provider, "cpu");
    assert_eq!(
        enforced.max_wait_minutes, 120,
        "unlocked: the reader's own value"
    );
    policy.check(&enforced).expect("unchanged locks pass");
    let e = policy
        .check(&Settings {
            read_first: false,
            ..enforced.clone()
        })
        .expect_err("a locked change");
    assert!(
        e.message
            .contains("read_first is set by this machine's administrator"),
        "{}",
        e.message
    );
    policy
        .check(&Settings {
            max_wait_minutes: 30,
            ..enforced
        })
        .expect("an unlocked change");
    let defaults = context(dir.path(), policy).view().defaults;
    assert!(defaults.read_first);
}

#[test]
fn the_first_run_checks_each_choice_and_records_them() {
    let dir = tempfile::tempdir().expect("tmp");
    let ctx = context(dir.path(), Policy::default());
    let view = ctx.view();
    assert!(view.demo, "the demonstration model is bundled");
    let demo = view
        .models
        .iter()
        .find(|m| m.dir.ends_with("demo"))
        .expect("demo offered");
    assert!(
        !demo.clinical && demo.intended_use.contains("chest"),
        "{demo:?}"
    );
    assert_eq!(
        view.defaults.reader,
        ReaderIdentity::operating_system_user()
    );
    assert_eq!(
        view.defaults.audit_log,
        ctx.audit_default.display().to_string()
    );

    let studies = dir.path().join("studies");
    crate::demo::generate(&studies, 2, 256, 7).expect("phantoms");
    let good = SetupRequest {
        sources: vec![studies.display().to_string()],
        model_dir: demo.dir.clone(),
        audit_log: dir.path().join("log/audit.sqlite3").display().to_string(),
        ..view.defaults.clone()
    };
    let refused = |req: SetupRequest, expected: &str| {
        let e = ctx.finish(&req).expect_err(expected);
        assert!(e.message.contains(expected), "{expected}: {}", e.message);
        assert!(!ctx.settings_path.exists(), "nothing saved");
    };
    refused(
        SetupRequest {
            sources: vec![],
            ..good.clone()
        },
        "choose where studies come from",
    );
    refused(
        SetupRequest {
            sources: vec!["/no/such/folder".into()],
            ..good.clone()
        },
        "/no/such/folder",
    );
    refused(
        SetupRequest {
            model_dir: "/tmp".into(),
            ..good.clone()
        },
        "choose one of the models offered",
    );
    refused(
        SetupRequest {
            audit_log: "relative.sqlite3".into(),
            ..good.clone()
        },
        "absolute path",
    );
    let bad_pacs = write(dir.path(), "pacs.toml", "[[source]]\nname = 1\n");
    refused(
        SetupRequest {
            pacs_config: Some(bad_pacs.display().to_string()),
            ..good.clone()
        },
        "the PACS configuration",
    );

    let ws = ctx.finish(&good).expect("set up");
    assert_eq!(ws.worklist().rows.len(), 2, "the folder's studies");
    let saved = crate::workstation::load_settings(&ctx.settings_path)
        .expect("read")
        .expect("saved");
    assert_eq!(saved.audit_log.as_deref(), Some(good.audit_log.as_str()));
    assert!(
        ws.audit_recent(10)
            .expect("rows")
            .iter()
            .any(|r| r.kind == "settings_changed")
    );
    ws.close();
    drop(ws);
    let log = crate::audit::open(Path::new(&good.audit_log)).expect("the log");
    let first = log
        .records(1, 100)
        .expect("records")
        .into_iter()
        .find(|r| r.kind == overread_audit::EventKind::SettingsChanged)
        .expect("the first run is recorded");
    let detail = first.detail.expect("detail").to_string();
    assert!(detail.contains("\"first_run\":true"), "{detail}");
    assert!(detail.contains(&studies.display().to_string()), "{detail}");
}

#[test]
fn a_locked_model_is_the_only_one_offered_and_a_pacs_that_does_not_answer_says_why() {
    let dir = tempfile::tempdir().expect("tmp");
    let demo = models_dir().join("demo").canonicalize().expect("demo");
    let p = write(
        dir.path(),
        "machine.json",
        &format!(
            r#"{{"model_dir": "{}", "locked": ["model_dir"]}}"#,
            demo.display()
        ),
    );
    let ctx = context(dir.path(), Policy::load(&p).expect("policy"));
    let view = ctx.view();
    assert_eq!(view.models.len(), 1);
    assert_eq!(view.defaults.model_dir, demo.display().to_string());
    assert_eq!(view.policy.locked, vec![SettingKey::ModelDir]);

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    let config = write(
        dir.path(),
        "pacs.toml",
        &format!(
            "[[source]]\nname = \"closed\"\nkind = \"dicomweb\"\nurl = \"http://127.0.0.1:{port}/dicom-web\"\n\
             [source.timeouts]\nconnect_s = 2\noverall_s = 5\n"
        ),
    );
    let checks = check_pacs(&config).expect("the file loads");
    assert_eq!(checks.len(), 1);
    assert!(!checks[0].ok);
    assert!(
        checks[0].message.starts_with("closed: cannot connect"),
        "{}",
        checks[0].message
    );
    let e = check_pacs(&dir.path().join("missing.toml")).expect_err("missing");
    assert!(e.message.contains("missing.toml"), "{}", e.message);
}
