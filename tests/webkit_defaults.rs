//! WebKitGTK defaults the app sets before its window opens (a test binary of its
//! own: it changes the process environment).

#[cfg(target_os = "linux")]
#[test]
fn compositing_is_off_unless_the_user_chose_otherwise() {
    use confab_app::{webkit_defaults, WEBKIT_COMPOSITING_OFF};
    std::env::remove_var(WEBKIT_COMPOSITING_OFF);
    webkit_defaults();
    assert_eq!(std::env::var(WEBKIT_COMPOSITING_OFF).as_deref(), Ok("1"));
    // A user who wants compositing back says so, and that wins.
    std::env::set_var(WEBKIT_COMPOSITING_OFF, "0");
    webkit_defaults();
    assert_eq!(std::env::var(WEBKIT_COMPOSITING_OFF).as_deref(), Ok("0"));
}
