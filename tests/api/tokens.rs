//! Forged and misused bearer tokens are refused with 401.

use base64::Engine;
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde_json::json;

use crate::helpers::TestApp;

fn b64(v: &serde_json::Value) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap())
}

fn secret(app: &TestApp) -> Vec<u8> {
    let hexed = std::fs::read_to_string(app.dir.path().join("secret.key")).unwrap();
    hex::decode(hexed.trim()).unwrap()
}

#[tokio::test]
async fn forged_and_misused_tokens_get_401() {
    let app = TestApp::spawn().await;
    let u = app.register("ann@example.com").await;
    app.get("/api/v1/users/me", &u.token).await.ok(200);

    // Claims of the real token, so that only the property under test differs.
    let parts: Vec<&str> = u.token.split('.').collect();
    let claims: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(parts[1])
            .unwrap(),
    )
    .unwrap();
    let key = secret(&app);
    let sign = |alg: Algorithm, c: &serde_json::Value, k: &[u8]| {
        encode(&Header::new(alg), c, &EncodingKey::from_secret(k)).unwrap()
    };

    // Sanity: our own re-signing of the same claims is accepted, so each refusal below is
    // caused by the one property that differs.
    app.get("/api/v1/users/me", &sign(Algorithm::HS256, &claims, &key))
        .await
        .ok(200);

    let now = chrono::Utc::now().timestamp();
    let mut expired = claims.clone();
    expired["iat"] = json!(now - 7200);
    expired["exp"] = json!(now - 3600);
    let mut wrong_aud = claims.clone();
    wrong_aud["aud"] = json!("someone-else");
    let mut wrong_iss = claims.clone();
    wrong_iss["iss"] = json!("evil");
    let mut no_exp = claims.clone();
    no_exp.as_object_mut().unwrap().remove("exp");

    let alg_none = format!("{}.{}.", b64(&json!({"alg": "none", "typ": "JWT"})), parts[1]);
    let rs256_header = format!(
        "{}.{}.{}",
        b64(&json!({"alg": "RS256", "typ": "JWT"})),
        parts[1],
        parts[2]
    );
    let mut tampered = claims.clone();
    tampered["sub"] = json!("00000000-0000-7000-8000-000000000000");
    let tampered = format!("{}.{}.{}", parts[0], b64(&tampered), parts[2]);

    let cases = [
        ("alg none", alg_none),
        (
            "another algorithm (HS512, right key)",
            sign(Algorithm::HS512, &claims, &key),
        ),
        ("RS256 header on an HS256 signature", rs256_header),
        (
            "bad signature (other key)",
            sign(Algorithm::HS256, &claims, b"not the install secret at all...."),
        ),
        ("claims tampered after signing", tampered),
        ("expired", sign(Algorithm::HS256, &expired, &key)),
        ("wrong aud", sign(Algorithm::HS256, &wrong_aud, &key)),
        ("wrong iss", sign(Algorithm::HS256, &wrong_iss, &key)),
        ("no exp", sign(Algorithm::HS256, &no_exp, &key)),
        ("refresh token used as access token", u.refresh.clone()),
        ("garbage", "abc.def".to_string()),
        (
            "unknown api token",
            "keel_pat_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA".to_string(),
        ),
    ];
    for (what, token) in cases {
        let r = app.get("/api/v1/users/me", &token).await;
        assert_eq!((r.status, r.code()), (401, "invalid_token"), "{what}: {}", r.body);
    }

    // Other schemes and a missing header.
    let r = app
        .client
        .get(app.url("/api/v1/users/me"))
        .header("authorization", format!("Basic {}", u.token))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = app.client.get(app.url("/api/v1/users/me")).send().await.unwrap();
    assert_eq!(r.status(), 401);
}
