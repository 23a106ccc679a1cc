/**
 * Every string of the customer page (the page opened with `#ticket=…`), in each language it speaks: one table, so a
 * language is added, or a text changed, in one place. Free of DOM and Node types like page-contract.ts: page.ts names
 * the keys in the HTML (`data-t`), browser/ fills them in the browser's language. `{name}` is filled by the script.
 *
 * `consentText` and `consentAgree` are the consent the page shows before the file picker is enabled (the Provisions
 * on the Administration of Deep Synthesis of Internet-based Information Services, 2023, ask for a separate consent
 * from the person whose face is edited). A brand changes them here, and changes `CONSENT_VERSION` with them, so each
 * job's record names the text its customer agreed to (docs/page.md#consent).
 */
export const LANGUAGES = ['zh-CN', 'en'] as const;

export type Language = (typeof LANGUAGES)[number];

const EN = {
  pageTitle: 'Make your video',
  otherLanguage: '中文',
  lead: 'Choose a photo of yourself and get a short video of you, made with AI.',
  consentTitle: 'Before you start',
  consentText:
    'Your photo is used only to make your video, with AI that puts your face into the film. The video is marked "Made with AI". You can delete your photo and video on this page at any time.',
  consentAgree: 'I am the person in the photo (or I have their permission), and I agree.',
  choose: 'Choose a photo',
  photoHint: 'A JPEG, PNG or WebP photo, up to {mb} MB, with one face clearly visible.',
  consentFirst: 'Please agree above first.',
  previewAlt: 'Your photo',
  uploading: 'Uploading your photo…',
  making: 'Making your video (usually about {minutes} minutes)…',
  makingKeep: 'You can leave this page open, or come back to your link later.',
  waiting: 'Many people are making videos right now. Your photo is saved and your video is made as soon as possible: come back to your link later.',
  ready: 'Your video is ready',
  madeWithAi: 'Made with AI',
  download: 'Download',
  share: 'Share',
  shareLink: 'Anyone with this link can watch your video until {date}:',
  remove: 'Delete my photo and video',
  removeConfirm: 'Delete your photo and video? This cannot be undone.',
  removed: 'Your photo and video are deleted.',
  noTicket: 'Please open this page with the link you were given.',
  developers: 'For developers',
  errType: 'Please choose a JPEG, PNG or WebP photo.',
  errSize: 'This photo is too large ({mb} MB). Please choose one up to {max} MB.',
  errExpired: 'This link has expired or is not valid. Please ask for a new one.',
  errUsed: 'This link has been used for all the photos it allows.',
  errConsent: 'Please agree to the text above first.',
  errPhoto: 'We could not use this photo. Please try a clear photo of one person, facing the camera.',
  errFailed: 'Sorry, we could not make your video. Please try again.',
  errBusy: 'No more videos can be made today. Please come back tomorrow.',
  errNetwork: 'No connection. Check your network and try again.',
  errGone: 'This video is no longer here.',
  errOther: 'Something went wrong. Please try again.',
  errCode: 'Code: {code}',
};

export type StringKey = keyof typeof EN;

export const STRINGS: Record<Language, Record<StringKey, string>> = {
  en: EN,
  'zh-CN': {
    pageTitle: '制作你的视频',
    otherLanguage: 'English',
    lead: '选一张你自己的照片，用 AI 生成一段有你出演的短视频。',
    consentTitle: '开始之前',
    consentText: '你的照片仅用于制作你的视频：AI 会把你的脸合成到影片中。视频会标注"AI 生成"。你可以随时在本页删除你的照片和视频。',
    consentAgree: '我是照片中的本人（或已获得本人同意），并同意以上内容。',
    choose: '选择照片',
    photoHint: '请选择 JPEG、PNG 或 WebP 格式的照片，不超过 {mb} MB，清楚露出一张脸。',
    consentFirst: '请先同意上面的说明。',
    previewAlt: '你的照片',
    uploading: '正在上传你的照片…',
    making: '正在制作你的视频（通常约 {minutes} 分钟）…',
    makingKeep: '你可以停留在本页，也可以稍后再打开你的链接查看。',
    waiting: '现在制作视频的人很多。你的照片已保存，视频会尽快制作：请稍后再打开你的链接查看。',
    ready: '你的视频已生成',
    madeWithAi: 'AI 生成',
    download: '下载视频',
    share: '分享',
    shareLink: '在 {date} 之前，任何人都可以通过这个链接观看你的视频：',
    remove: '删除我的照片和视频',
    removeConfirm: '确定删除你的照片和视频吗？删除后无法恢复。',
    removed: '你的照片和视频已删除。',
    noTicket: '请通过你收到的链接打开本页。',
    developers: '开发者入口',
    errType: '请选择 JPEG、PNG 或 WebP 格式的照片。',
    errSize: '照片太大（{mb} MB），请选择不超过 {max} MB 的照片。',
    errExpired: '此链接已过期或无效，请重新获取链接。',
    errUsed: '此链接可上传的照片数量已用完。',
    errConsent: '请先同意上面的说明。',
    errPhoto: '这张照片无法使用，请换一张清晰的单人正脸照片。',
    errFailed: '抱歉，视频制作失败，请重试。',
    errBusy: '今天的视频名额已用完，请明天再来。',
    errNetwork: '网络连接失败，请检查网络后重试。',
    errGone: '这个视频已不存在。',
    errOther: '出了点问题，请重试。',
    errCode: '错误代码：{code}',
  },
};
